"""Task `Extract`: text with page and heading positions, written to the artifacts bucket."""

from aws_lambda_powertools.utilities.parser import parse

from handlers._events import DocumentEvent
from handlers._powertools import pipeline_handler
from ragline import pipeline
from ragline.services import get_services


@pipeline_handler
def handler(event, context):
    parsed = parse(event=event, model=DocumentEvent)
    return pipeline.extract_text(parsed.document, parsed.execution_id, get_services()).model_dump()
