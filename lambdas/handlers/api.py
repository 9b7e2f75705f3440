"""The REST API Lambda: API Gateway REST proxy events in, the Powertools resolver does the rest.

Thin on purpose: observability decorators and `app.resolve`; routes live in ragline.api.app.
"""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from ragline.api.app import app, logger, metrics, tracer

# Most routes publish no metric; that is expected, not worth a warning per invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
