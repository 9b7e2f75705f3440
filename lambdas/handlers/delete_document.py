"""Task `DeleteDocument`: an object was deleted; remove its points, artifacts and catalog row."""

from aws_lambda_powertools.utilities.parser import parse

from handlers._events import S3DetailEvent
from handlers._powertools import pipeline_handler
from ragline import pipeline
from ragline.services import get_services


@pipeline_handler
def handler(event, context):
    parsed = parse(event=event, model=S3DetailEvent)
    return pipeline.delete(pipeline.S3Object.from_detail(parsed.detail), parsed.execution_id, get_services())
