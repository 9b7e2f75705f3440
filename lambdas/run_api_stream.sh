#!/bin/sh
# The api_stream function's start-up command (its Lambda "handler"). The AWS Lambda Web Adapter
# layer (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap) runs it, waits until GET / answers, then
# forwards each invocation to it as an HTTP request and streams the response back
# (AWS_LWA_INVOKE_MODE=response_stream). See docs/streaming.md.
export PYTHONPATH="${LAMBDA_TASK_ROOT}:/opt/python${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m uvicorn ragline.api.asgi:app --host 127.0.0.1 --port "${AWS_LWA_PORT:-8000}" \
    --no-access-log --timeout-graceful-shutdown 2
