"""Task `Register`: record the upload in the catalog; flag unchanged re-uploads."""

from aws_lambda_powertools.utilities.parser import parse

from handlers._events import S3DetailEvent
from handlers._powertools import pipeline_handler
from ragline import pipeline
from ragline.services import get_services


@pipeline_handler
def handler(event, context):
    parsed = parse(event=event, model=S3DetailEvent)
    obj = pipeline.S3Object.from_detail(parsed.detail)
    return pipeline.register(obj, parsed.execution_id, get_services()).model_dump()
