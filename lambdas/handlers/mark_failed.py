"""Task `MarkFailed`: the failure and its reason, in words, on the catalog row."""

from aws_lambda_powertools.utilities.parser import parse

from handlers._events import MarkFailedEvent
from handlers._powertools import logger, metrics, pipeline_handler
from ragline import pipeline
from ragline.services import get_services


@pipeline_handler
def handler(event, context):
    parsed = parse(event=event, model=MarkFailedEvent)
    result = pipeline.mark_failed(parsed.state, parsed.execution_id, get_services())
    if result.dead_letter:
        logger.warning("document failed", extra=result.model_dump())
        metrics.add_metric(name="DocumentsFailed", unit="Count", value=1)
    return result.model_dump()
