"""Task `Finalize`: drop older versions' points, mark ready, bump the tenant generation."""

from aws_lambda_powertools.utilities.parser import parse

from handlers._events import FinalizeEvent
from handlers._powertools import metrics, pipeline_handler
from ragline import pipeline
from ragline.services import get_services


@pipeline_handler
def handler(event, context):
    parsed = parse(event=event, model=FinalizeEvent)
    result = pipeline.finalize(parsed.document, parsed.chunked, parsed.execution_id, get_services())
    metrics.add_metric(name="DocumentsIndexed", unit="Count", value=1)
    return result
