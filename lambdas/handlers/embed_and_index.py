"""Map item `EmbedBatch`: dense + sparse vectors for one batch, upserted into Qdrant."""

from aws_lambda_powertools.utilities.parser import parse

from handlers._events import BatchEvent
from handlers._powertools import metrics, pipeline_handler
from ragline import pipeline
from ragline.services import get_services
from ragline.wiring import METRIC_EMBEDDING_TOKENS


@pipeline_handler
def handler(event, context):
    parsed = parse(event=event, model=BatchEvent)
    result = pipeline.embed_and_index(parsed.document, parsed.batch_key, parsed.execution_id, get_services())
    metrics.add_metric(name="PointsIndexed", unit="Count", value=result["points"])
    metrics.add_metric(name=METRIC_EMBEDDING_TOKENS, unit="Count", value=result["embedding_tokens"])
    return result
