"""The REST API: API Gateway (REST, regional) in front of the ``api`` function (and, for the
streaming routes, the ``api_stream`` function with response streaming), with a Cognito
user pool authorizer on every route but ``GET /health``, stage and per-method throttling, a
usage plan, JSON access logs, X-Ray, CORS limited to the web app's origins and an AWS WAF web
ACL with AWS managed rules and a per-IP rate limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ragline import wiring
from ragline.access import routes as route_rules
from ragline_cdk.config import EnvironmentConfig
from ragline_cdk.storage import encrypted_log_group

STAGE_NAME = "v1"


@dataclass(frozen=True)
class Route:
    method: str
    path: str

    @property
    def authorized(self) -> bool:
        return (self.method, self.path) not in wiring.PUBLIC_ROUTES

    @property
    def streaming(self) -> bool:
        """Served by the streaming function with STREAM transfer mode (server-sent events)."""
        return (self.method, self.path) in wiring.STREAMING_ROUTES


# One API Gateway method per route rule (ragline.access.routes): every route but the public
# ones (/health) needs a signed-in user; the API function enforces each rule's role.
ROUTES = tuple(Route(rule.method, rule.path) for rule in route_rules.ROUTES)

AWS_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


class Api(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig,
                 key: kms.IKey, function: lambda_.IFunction, stream_function: lambda_.IFunction,
                 user_pool: cognito.IUserPool, web_origins: list[str]) -> None:
        super().__init__(scope, construct_id)
        api_config = config.api
        self.access_logs = encrypted_log_group(self, "AccessLogs", config, key)
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"ragline-{config.name}",
            description=f"Ragline {config.name}: query, search, documents, feedback, health",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,  # execution logging needs the account's CloudWatch role
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=api_config.rate_limit,
                throttling_burst_limit=api_config.burst_limit,
                method_options={
                    # Each question costs embeddings and LLM tokens.
                    "/query/POST": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=api_config.query_rate_limit,
                        throttling_burst_limit=api_config.query_burst_limit,
                    ),
                },
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # would log request bodies (questions)
                metrics_enabled=True,
                tracing_enabled=True,
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=web_origins,
                allow_methods=[*route_rules.METHODS, "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=Duration.hours(1),
            ),
        )
        # Authorizer failures (401/403) and gateway errors must carry CORS headers too, or the
        # browser hides them from the web app. Gateway responses take one static origin.
        for response_type, name in ((apigw.ResponseType.DEFAULT_4_XX, "Default4xx"),
                                    (apigw.ResponseType.DEFAULT_5_XX, "Default5xx")):
            self.rest_api.add_gateway_response(
                name,
                type=response_type,
                response_headers={
                    "Access-Control-Allow-Origin": f"'{web_origins[0]}'",
                    "Vary": "'Origin'",
                },
            )

        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            authorizer_name=f"ragline-{config.name}-cognito",
            cognito_user_pools=[user_pool],
            identity_source="method.request.header.Authorization",
            results_cache_ttl=Duration.minutes(5),
        )
        buffered = apigw.LambdaIntegration(function, proxy=True, allow_test_invoke=False)
        # InvokeWithResponseStream: API Gateway relays the function's bytes as they come. The
        # integration may then run as long as the function (up to 15 minutes for streams).
        streamed = apigw.LambdaIntegration(
            stream_function, proxy=True, allow_test_invoke=False,
            response_transfer_mode=apigw.ResponseTransferMode.STREAM,
            timeout=Duration.seconds(wiring.API_STREAM.timeout_s),
        )
        self.methods: dict[tuple[str, str], apigw.Method] = {}
        for route in ROUTES:
            integration = streamed if route.streaming else buffered
            resource = self.rest_api.root.resource_for_path(route.path)
            if route.authorized:
                method = resource.add_method(
                    route.method, integration,
                    authorization_type=apigw.AuthorizationType.COGNITO,
                    authorizer=self.authorizer,
                )
            else:
                method = resource.add_method(
                    route.method, integration, authorization_type=apigw.AuthorizationType.NONE,
                )
            self.methods[(route.method, route.path)] = method

        self.stage = self.rest_api.deployment_stage
        # API Gateway's execution logs go to this group; created here first so it is encrypted
        # and expires.
        self.execution_logs = encrypted_log_group(
            self, "ExecutionLogs", config, key,
            log_group_name=f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/{STAGE_NAME}",
        )
        self.stage.node.add_dependency(self.execution_logs)
        self.usage_plan = self.rest_api.add_usage_plan(
            "UsagePlan",
            name=f"ragline-{config.name}",
            description="Limits for API-key clients (integrations); browser traffic is bounded by "
            "the stage and per-method throttles",
            throttle=apigw.ThrottleSettings(rate_limit=api_config.rate_limit,
                                            burst_limit=api_config.burst_limit),
            quota=apigw.QuotaSettings(limit=api_config.quota_per_day, period=apigw.Period.DAY),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.rest_api, stage=self.stage)],
        )

        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"ragline-{config.name}-api",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"ragline-{config.name}-api"),
            rules=[
                *[
                    wafv2.CfnWebACL.RuleProperty(
                        name=group,
                        priority=index,
                        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                        statement=wafv2.CfnWebACL.StatementProperty(
                            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                                vendor_name="AWS", name=group
                            )
                        ),
                        visibility_config=_visibility(group),
                    )
                    for index, group in enumerate(AWS_MANAGED_RULE_GROUPS)
                ],
                wafv2.CfnWebACL.RuleProperty(
                    name="RateLimitPerIp",
                    priority=len(AWS_MANAGED_RULE_GROUPS),
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP", limit=api_config.waf_rate_limit_per_5min,
                        )
                    ),
                    visibility_config=_visibility("RateLimitPerIp"),
                ),
            ],
        )
        self.web_acl_association = wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation",
            resource_arn=self.stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
        self.web_acl_association.node.add_dependency(self.stage)

    @property
    def url(self) -> str:
        return self.rest_api.url


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True,
    )
