"""Monitoring: one dashboard and the alarms (cdk-monitoring-constructs), all notifying an
encrypted SNS topic with the environment's alarm e-mail subscribed.

Alarms, one per failure signal: failed executions of each state machine; messages in the
dead-letter queue; API 5xx rate and p99 latency; errors and throttles of every function; cache
hit rate (ElastiCache Serverless); embedding and LLM tokens per day over budget (custom
metrics, names in ``ragline.wiring``).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from cdk_monitoring_constructs import (
    AlarmFactoryDefaults,
    CustomMetricGroup,
    CustomMetricWithAlarm,
    CustomThreshold,
    DefaultDashboardFactory,
    ErrorCountThreshold,
    ErrorRateThreshold,
    LatencyThreshold,
    MaxMessageCountThreshold,
    MinHitRateThreshold,
    MonitoringFacade,
    SnsAlarmActionStrategy,
)
from constructs import Construct

from ragline import wiring
from ragline_cdk.api import STAGE_NAME, Api
from ragline_cdk.config import EnvironmentConfig
from ragline_cdk.functions import SERVICE_NAME, Functions
from ragline_cdk.ingestion import Ingestion

# Throttling of embed_and_index is the designed back-pressure (reserved concurrency + the
# state machine's Retry); alarm only when it is sustained.
EMBED_THROTTLES_PER_5_MIN = 100
# Pipeline functions raise TransientError on provider 429/5xx, retried by the state machine:
# a few errors are normal; documents that really fail raise the failed-execution alarm.
PIPELINE_ERRORS_PER_5_MIN = 5


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig,
                 key: kms.IKey, functions: Functions, ingestion: Ingestion,
                 dead_letter_queue: sqs.IQueue, api: Api, cache_name: str) -> None:
        super().__init__(scope, construct_id)
        monitoring = config.monitoring
        self.topic = sns.Topic(
            self, "AlarmTopic",
            display_name=f"Ragline {config.name} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        self.topic.add_subscription(subscriptions.EmailSubscription(monitoring.alarm_email))

        self.facade = MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=AlarmFactoryDefaults(
                actions_enabled=True,
                alarm_name_prefix=f"ragline-{config.name}",
                action=SnsAlarmActionStrategy(on_alarm_topic=self.topic, on_ok_topic=self.topic),
                datapoints_to_alarm=1,
            ),
            dashboard_factory=DefaultDashboardFactory(
                self, "Dashboards",
                dashboard_name_prefix=f"ragline-{config.name}",
                create_dashboard=True,
                create_alarm_dashboard=False,
                create_summary_dashboard=False,
            ),
        )
        facade = self.facade
        facade.add_large_header(f"Ragline {config.name}")

        # Ingestion
        for name, machine in ingestion.state_machines.items():
            facade.monitor_step_function(
                state_machine=machine.state_machine,
                human_readable_name=f"State machine {name}",
                alarm_friendly_name=f"StateMachine-{name}",
                add_failed_execution_count_alarm={"Critical": ErrorCountThreshold(max_error_count=0)},
            )
        facade.monitor_sqs_queue(
            queue=dead_letter_queue,
            human_readable_name="Dead-letter queue (failed documents, undelivered events)",
            alarm_friendly_name="DeadLetterQueue",
            add_queue_max_size_alarm={"Critical": MaxMessageCountThreshold(max_message_count=0)},
        )

        # API
        facade.monitor_api_gateway(
            api=api.rest_api,
            api_stage=STAGE_NAME,
            human_readable_name="REST API",
            alarm_friendly_name="Api",
            add5_xx_fault_rate_alarm={"Critical": ErrorRateThreshold(
                max_error_rate=monitoring.api_5xx_rate_percent / 100,
                datapoints_to_alarm=2, evaluation_periods=3,
            )},
            add_latency_p99_alarm={"Warning": LatencyThreshold(
                max_latency=Duration.millis(monitoring.api_p99_latency_ms),
                datapoints_to_alarm=3, evaluation_periods=3,
            )},
        )

        # Functions
        for name, fn in functions.by_name.items():
            errors = 0 if name == "api" else PIPELINE_ERRORS_PER_5_MIN
            throttles = EMBED_THROTTLES_PER_5_MIN if name == "embed_and_index" else 0
            facade.monitor_lambda_function(
                lambda_function=fn.function,
                human_readable_name=f"Function {name}",
                alarm_friendly_name=f"Function-{name}",
                add_fault_count_alarm={"Critical": ErrorCountThreshold(max_error_count=errors)},
                add_throttles_count_alarm={"Warning": ErrorCountThreshold(max_error_count=throttles)},
            )

        # Cache
        facade.monitor_serverless_elasti_cache(
            cluster_id=cache_name,
            human_readable_name="Cache (ElastiCache Serverless)",
            alarm_friendly_name="Cache",
            add_hit_rate_alarm={"Warning": MinHitRateThreshold(
                min_hit_rate_percent=monitoring.cache_min_hit_rate_percent,
                datapoints_to_alarm=6, evaluation_periods=6,  # 30 minutes
                treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
            )},
        )

        # Provider usage: tokens per day against the budget.
        def app_metric(metric_name: str, label: str, period: Duration) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=config.metrics_namespace,
                metric_name=metric_name,
                dimensions_map={"service": SERVICE_NAME},
                statistic="Sum",
                period=period,
                label=label,
            )

        day = Duration.days(1)
        self.embedding_tokens = app_metric(wiring.METRIC_EMBEDDING_TOKENS, "Embedding tokens", day)
        self.llm_tokens = cloudwatch.MathExpression(
            expression="FILL(prompt, 0) + FILL(completion, 0)",
            using_metrics={
                "prompt": app_metric(wiring.METRIC_LLM_PROMPT_TOKENS, "Prompt tokens", day),
                "completion": app_metric(wiring.METRIC_LLM_COMPLETION_TOKENS, "Completion tokens", day),
            },
            label="LLM tokens",
            period=day,
        )
        facade.monitor_custom(
            human_readable_name="Provider usage (tokens per day)",
            alarm_friendly_name="Usage",
            metric_groups=[
                CustomMetricGroup(title="Embedding tokens / day", metrics=[CustomMetricWithAlarm(
                    metric=self.embedding_tokens,
                    alarm_friendly_name="EmbeddingTokens",
                    add_alarm={"Warning": CustomThreshold(
                        threshold=monitoring.daily_embedding_tokens,
                        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                        treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                        period=day,
                    )},
                )]),
                CustomMetricGroup(title="LLM tokens / day", metrics=[CustomMetricWithAlarm(
                    metric=self.llm_tokens,
                    alarm_friendly_name="LlmTokens",
                    add_alarm={"Warning": CustomThreshold(
                        threshold=monitoring.daily_llm_tokens,
                        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                        treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                        period=day,
                    )},
                )]),
                CustomMetricGroup(title="Answer cache", metrics=[
                    app_metric(wiring.METRIC_ANSWER_CACHE_HITS, "Hits", Duration.minutes(5)),
                    app_metric(wiring.METRIC_ANSWER_CACHE_MISSES, "Misses", Duration.minutes(5)),
                ]),
                CustomMetricGroup(title="Documents", metrics=[
                    app_metric(name, name, Duration.minutes(5))
                    for name in ("DocumentsIndexed", "DocumentsFailed", "ChunksCreated",
                                 "PointsIndexed")
                ]),
            ],
        )
