"""Logger, Tracer and Metrics shared by every handler, and the decorator that wires them.

The correlation id is the Step Functions execution ARN, so every log line of one document's
ingestion can be found with one filter.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = Tracer()
metrics = Metrics()

Handler = Callable[[dict[str, Any], LambdaContext], Any]


def pipeline_handler(func: Handler) -> Handler:
    """Wrap a state machine Task handler with logging (correlated by execution), tracing, metrics."""

    @functools.wraps(func)
    @logger.inject_lambda_context(correlation_id_path="execution_id", clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def wrapper(event: dict[str, Any], context: LambdaContext) -> Any:
        return func(event, context)

    return wrapper
