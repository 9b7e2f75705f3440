"""Task `Chunk`: token-bounded chunks in JSONL batches; returns only the batch keys."""

from aws_lambda_powertools.utilities.parser import parse

from handlers._events import ChunkEvent
from handlers._powertools import metrics, pipeline_handler
from ragline import pipeline
from ragline.services import get_services


@pipeline_handler
def handler(event, context):
    parsed = parse(event=event, model=ChunkEvent)
    result = pipeline.chunk(parsed.document, parsed.extracted, parsed.execution_id, get_services())
    metrics.add_metric(name="ChunksCreated", unit="Count", value=result.chunk_count)
    return result.model_dump()
