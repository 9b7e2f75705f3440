"""An alarm for every failure signal the issue lists, each notifying the alarm topic, whose
subscription is the environment's alarm e-mail; and a dashboard."""

from __future__ import annotations

import pytest

from ragline import wiring
from tests.infra.cfn_helpers import refs


def _metrics(alarm: dict) -> list[dict]:
    """(namespace, name, dimensions) of every metric an alarm reads, simple or metric math."""
    props = alarm["Properties"]
    if "MetricName" in props:
        return [{"namespace": props["Namespace"], "name": props["MetricName"],
                 "dimensions": props.get("Dimensions", []), "stat": props.get("Statistic"),
                 "extended": props.get("ExtendedStatistic")}]
    found = []
    for metric in props.get("Metrics", []):
        if "MetricStat" in metric:
            stat = metric["MetricStat"]
            found.append({"namespace": stat["Metric"]["Namespace"],
                          "name": stat["Metric"]["MetricName"],
                          "dimensions": stat["Metric"].get("Dimensions", []),
                          "stat": stat["Stat"], "extended": None})
    return found


@pytest.fixture()
def alarms(template) -> list[dict]:
    return list(template.of_type("AWS::CloudWatch::Alarm").values())


def _find(alarms, namespace, name, dimension_refs=None, dimension_value=None, stat=None):
    hits = []
    for alarm in alarms:
        for metric in _metrics(alarm):
            if metric["namespace"] != namespace or metric["name"] != name:
                continue
            if stat and metric["stat"] != stat:
                continue
            if dimension_refs is not None and not dimension_refs <= refs(metric["dimensions"]):
                continue
            if dimension_value is not None and dimension_value not in \
                    [d["Value"] for d in metric["dimensions"]]:
                continue
            hits.append(alarm)
    return hits


def test_every_alarm_notifies_the_alarm_topic(template, stack, alarms):
    topic_id = template.logical_id(stack.monitoring.topic)
    assert alarms
    for alarm in alarms:
        assert alarm["Properties"]["ActionsEnabled"] is True
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
    (subscription,) = template.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == stack.config.monitoring.alarm_email
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic_id}
    assert len(template.of_type("AWS::CloudWatch::Dashboard")) == 1


@pytest.mark.parametrize("name", sorted(wiring.STATE_MACHINES))
def test_failed_executions_alarm(template, stack, alarms, name):
    machine = template.logical_id(stack.ingestion.state_machines[name].state_machine)
    (alarm,) = _find(alarms, "AWS/States", "ExecutionsFailed", {machine})
    assert alarm["Properties"]["Threshold"] == 0
    assert alarm["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"


def test_dead_letter_queue_depth_alarm(template, stack, alarms):
    queue = template.logical_id(stack.dead_letter_queue)
    (alarm,) = _find(alarms, "AWS/SQS", "ApproximateNumberOfMessagesVisible", {queue})
    assert alarm["Properties"]["Threshold"] == 0


def test_api_5xx_rate_and_p99_latency_alarms(template, stack, alarms):
    api_name = f"ragline-{stack.config.name}"
    (fault,) = _find(alarms, "AWS/ApiGateway", "5XXError", dimension_value=api_name, stat="Average")
    assert fault["Properties"]["Threshold"] == stack.config.monitoring.api_5xx_rate_percent / 100
    (latency,) = _find(alarms, "AWS/ApiGateway", "Latency", dimension_value=api_name, stat="p99")
    assert latency["Properties"]["Threshold"] == stack.config.monitoring.api_p99_latency_ms
    (rest_api,) = template.of_type("AWS::ApiGateway::RestApi").values()
    assert rest_api["Properties"]["Name"] == api_name


@pytest.mark.parametrize("name", sorted(wiring.FUNCTIONS))
def test_lambda_errors_and_throttles_alarms(template, stack, alarms, name):
    function = template.logical_id(stack.functions[name].function)
    assert _find(alarms, "AWS/Lambda", "Errors", {function})
    assert _find(alarms, "AWS/Lambda", "Throttles", {function})


def test_cache_hit_rate_alarm(stack, alarms):
    (alarm,) = _find(alarms, "AWS/ElastiCache", "CacheHitRate",
                     dimension_value=stack.data.cache_name)
    assert alarm["Properties"]["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["Properties"]["Threshold"] == stack.config.monitoring.cache_min_hit_rate_percent


def test_embedding_and_llm_token_alarms(stack, alarms):
    namespace = stack.config.metrics_namespace
    (embedding,) = _find(alarms, namespace, wiring.METRIC_EMBEDDING_TOKENS)
    assert embedding["Properties"]["Threshold"] == stack.config.monitoring.daily_embedding_tokens
    (prompt,) = _find(alarms, namespace, wiring.METRIC_LLM_PROMPT_TOKENS)
    (completion,) = _find(alarms, namespace, wiring.METRIC_LLM_COMPLETION_TOKENS)
    assert prompt is completion  # one alarm on prompt + completion tokens
    assert prompt["Properties"]["Threshold"] == stack.config.monitoring.daily_llm_tokens
    for alarm in (embedding, prompt):
        for metric in _metrics(alarm):
            # Powertools' default dimension, as the functions are configured.
            assert metric["dimensions"] == [{"Name": "service", "Value": "ragline"}]


def test_functions_publish_metrics_where_the_alarms_read_them(template, stack):
    for name in wiring.FUNCTIONS:
        variables = template.props(template.logical_id(stack.functions[name].function))[
            "Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == stack.config.metrics_namespace
        assert variables["POWERTOOLS_SERVICE_NAME"] == "ragline"
