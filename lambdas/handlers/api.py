"""The REST API Lambda: API Gateway REST proxy events in, the Powertools resolver does the rest.

Thin on purpose: observability decorators and `app.resolve`; routes live in ragline.api.app.

Why the lock: Powertools keeps the invocation on shared instances (the resolver's
`current_event` and `context`, the Logger's correlation id, the Metrics set), so two threads
running the handler at once would read each other's event — the tenant claim included. Lambda
never runs two invocations in one process (the lock is uncontended there), but the local
gateway is a threaded HTTP server calling this handler: there, JSON API requests run one at a
time. Streamed answers do not come through here (ragline.api.sse), so they never wait on it.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from ragline.api.app import app, logger, metrics, tracer

# Most routes publish no metric; that is expected, not worth a warning per invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

_invocation = threading.Lock()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=not is_metrics_disabled())
def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with _invocation:
        return _handle(event, context)
