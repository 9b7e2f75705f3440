"""Task `MarkFailed`: the failure and its reason, in words, on the catalog row."""

from handlers._powertools import logger, metrics, pipeline_handler
from ragline import pipeline
from ragline.services import get_services


@pipeline_handler
def handler(event, context):
    result = pipeline.mark_failed(event["state"], event["execution_id"], get_services(), step=event.get("step"))
    logger.warning("document failed", extra=result)
    metrics.add_metric(name="DocumentsFailed", unit="Count", value=1)
    return result
