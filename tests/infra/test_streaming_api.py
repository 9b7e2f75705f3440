"""Streamed answers on AWS: the streaming routes reach the ``api_stream`` function with API
Gateway's STREAM transfer mode (InvokeWithResponseStream) behind the Cognito authorizer; the
function runs the Lambda Web Adapter in response-stream mode and its timeout covers a whole
stream; every other route is exactly as before (buffered, the ``api`` function)."""

from __future__ import annotations

import os

from ragline import wiring
from ragline.llm import DEFAULT_TOTAL_TIMEOUT_S
from tests.infra.cfn_helpers import refs
from tests.infra.test_api import _methods


def _function_props(template, stack, name):
    return template.props(template.logical_id(stack.functions[name].function))


def test_streaming_routes_stream_from_the_stream_function_behind_cognito(template, stack):
    methods = _methods(template)
    (authorizer_id,) = template.of_type("AWS::ApiGateway::Authorizer")
    stream_function = template.logical_id(stack.functions["api_stream"].function)
    for route in wiring.STREAMING_ROUTES:
        props = methods[route]
        integration = props["Integration"]
        assert integration["Type"] == "AWS_PROXY" and integration["ResponseTransferMode"] == "STREAM", route
        assert stream_function in refs(integration["Uri"]), route
        assert "response-streaming-invocations" in str(integration["Uri"]), route
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS" and props["AuthorizerId"] == {"Ref": authorizer_id}
        # The integration may run as long as the function does.
        assert integration["TimeoutInMillis"] == wiring.API_STREAM.timeout_s * 1000


def test_no_other_route_changed(template, stack):
    api_function = template.logical_id(stack.functions["api"].function)
    for (verb, path), props in _methods(template).items():
        if verb == "OPTIONS" or (verb, path) in wiring.STREAMING_ROUTES:
            continue
        integration = props["Integration"]
        assert integration.get("ResponseTransferMode", "BUFFERED") == "BUFFERED", (verb, path)
        assert api_function in refs(integration["Uri"]) and "TimeoutInMillis" not in integration, (verb, path)


def test_conversation_routes_are_signed_in_routes(template):
    methods = _methods(template)
    for route in wiring.CONVERSATION_ROUTES:
        assert methods[route]["AuthorizationType"] == "COGNITO_USER_POOLS", route


def test_stream_function_runs_the_web_adapter_and_its_timeout_fits_a_stream(template, stack):
    props = _function_props(template, stack, "api_stream")
    spec = wiring.API_STREAM
    assert props["Handler"] == spec.handler and (props["MemorySize"], props["Timeout"]) == (spec.memory_mb, spec.timeout_s)
    # A follow-up rewrite and a whole generated answer, each bounded by the LLM budget, fit.
    assert props["Timeout"] > 2 * DEFAULT_TOTAL_TIMEOUT_S
    variables = props["Environment"]["Variables"]
    assert variables["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert "RAGLINE_CORS_ALLOWED_ORIGINS" in variables
    layers = [str(layer) for layer in props["Layers"]]
    assert any("753240598075:layer:LambdaAdapterLayer" in layer for layer in layers)
    # Same code and the same grants as the buffered API function.
    assert spec.uses == wiring.FUNCTIONS["api"].uses
    assert props["Code"] == _function_props(template, stack, "api")["Code"]
    assert props["Runtime"].startswith("python")


def test_the_start_script_is_in_the_code_asset_and_executable():
    script = wiring.REPO_ROOT / "lambdas" / wiring.API_STREAM.handler
    assert script.is_file() and os.access(script, os.X_OK)
    assert "ragline.api.asgi:app" in script.read_text()
