"""The REST API: every route of docs/api.md behind the Cognito authorizer except /health,
throttling and a usage plan, access logs, WAF with AWS managed rules, CORS limited to the web
app's origins; the web app gets its settings from /config.json at deploy time."""

from __future__ import annotations

import re

from ragline import wiring
from ragline.wiring import REPO_ROOT
from tests.infra.cfn_helpers import refs

DOC_ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)")


def documented_routes() -> set[tuple[str, str]]:
    """The routes docs/api.md names, less the local runtime's development sign-in."""
    routes = set(DOC_ROUTE.findall((REPO_ROOT / "docs" / "api.md").read_text()))
    return {(verb, path) for verb, path in routes if not path.startswith("/dev-auth/")}


def _methods(template) -> dict[tuple[str, str], dict]:
    methods = {}
    for method in template.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = "/" if "Fn::GetAtt" in resource else template.resource_path(resource["Ref"])
        methods[(props["HttpMethod"], path)] = props
    return methods


def test_every_documented_route_exists(template):
    routes = documented_routes()
    assert ("GET", "/health") in routes and ("POST", "/query") in routes
    assert routes <= set(_methods(template))


def test_authorizer_on_every_route_but_health(template, stack):
    (authorizer_id, authorizer), = template.of_type("AWS::ApiGateway::Authorizer").items()
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert refs(authorizer["Properties"]["ProviderARNs"]) == \
        {template.logical_id(stack.auth.user_pool)}
    assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"
    methods = _methods(template)
    for (verb, path), props in methods.items():
        if verb == "OPTIONS":  # CORS preflight: browsers send no credentials
            assert props["AuthorizationType"] == "NONE"
            assert props["Integration"]["Type"] == "MOCK"
        elif (verb, path) == ("GET", "/health"):
            assert props["AuthorizationType"] == "NONE"
            assert "AuthorizerId" not in props
        else:
            assert props["AuthorizationType"] == "COGNITO_USER_POOLS", (verb, path)
            assert props["AuthorizerId"] == {"Ref": authorizer_id}, (verb, path)
    api_function = template.logical_id(stack.functions["api"].function)
    stream_function = template.logical_id(stack.functions["api_stream"].function)
    for (verb, path), props in methods.items():
        if verb != "OPTIONS":
            assert props["Integration"]["Type"] == "AWS_PROXY"
            streams = (verb, path) in wiring.STREAMING_ROUTES  # tests/infra/test_streaming_api.py
            assert (stream_function if streams else api_function) in refs(props["Integration"]["Uri"])


def test_api_function_is_the_wiring_api_handler(template, stack):
    props = template.props(template.logical_id(stack.functions["api"].function))
    assert props["Handler"] == wiring.FUNCTIONS["api"].handler


def test_stage_throttling_access_logs_tracing(template, stack):
    (stage,) = template.of_type("AWS::ApiGateway::Stage").values()
    props, api = stage["Properties"], stack.config.api
    assert refs(props["AccessLogSetting"]["DestinationArn"]) == \
        {template.logical_id(stack.api.access_logs)}
    assert "$context.identity.sourceIp" in props["AccessLogSetting"]["Format"]
    assert props["TracingEnabled"] is True
    settings = {(s["HttpMethod"], s["ResourcePath"]): s for s in props["MethodSettings"]}
    default = settings[("*", "/*")]
    assert default["ThrottlingRateLimit"] == api.rate_limit
    assert default["ThrottlingBurstLimit"] == api.burst_limit
    assert default["LoggingLevel"] == "ERROR" and default["DataTraceEnabled"] is False
    query = settings[("POST", "/~1query")]
    assert query["ThrottlingRateLimit"] == api.query_rate_limit
    assert query["ThrottlingBurstLimit"] == api.query_burst_limit
    (plan,) = template.of_type("AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"] == {"RateLimit": api.rate_limit,
                                              "BurstLimit": api.burst_limit}
    assert plan["Properties"]["Quota"] == {"Limit": api.quota_per_day, "Period": "DAY"}
    assert refs(plan["Properties"]["ApiStages"]) >= {template.logical_id(stack.api.rest_api)}


def test_waf_with_aws_managed_rules_guards_the_stage(template, stack):
    (acl_id, acl), = template.of_type("AWS::WAFv2::WebACL").items()
    assert acl["Properties"]["Scope"] == "REGIONAL"
    groups = {rule["Statement"]["ManagedRuleGroupStatement"]["Name"]
              for rule in acl["Properties"]["Rules"] if "ManagedRuleGroupStatement" in rule["Statement"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesAmazonIpReputationList"} <= groups
    rate = [r for r in acl["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate and rate[0]["Action"] == {"Block": {}}
    (association,) = template.of_type("AWS::WAFv2::WebACLAssociation").values()
    assert refs(association["Properties"]["WebACLArn"]) == {acl_id}
    stage_refs = refs(association["Properties"]["ResourceArn"])
    (stage_id,) = template.of_type("AWS::ApiGateway::Stage")
    assert {stage_id, template.logical_id(stack.api.rest_api)} <= stage_refs


def test_cors_is_limited_to_the_web_app_origins(template, stack):
    distribution = template.logical_id(stack.hosting.distribution)
    for (verb, path), props in _methods(template).items():
        if verb != "OPTIONS":
            continue
        (response,) = props["Integration"]["IntegrationResponses"]
        origin = response["ResponseParameters"]["method.response.header.Access-Control-Allow-Origin"]
        assert "'*'" not in str(origin), path
        templates = str(response.get("ResponseTemplates", ""))
        for extra in stack.config.web.allowed_origins:
            assert extra in templates, (path, extra)
        assert distribution in refs(response.get("ResponseTemplates")) | refs(origin), path
    for gateway_response in template.of_type("AWS::ApiGateway::GatewayResponse").values():
        header = gateway_response["Properties"]["ResponseParameters"][
            "gatewayresponse.header.Access-Control-Allow-Origin"]
        assert refs(header) == {distribution}
    api_env = template.props(template.logical_id(stack.functions["api"].function))[
        "Environment"]["Variables"]["RAGLINE_CORS_ALLOWED_ORIGINS"]
    assert distribution in refs(api_env) and "*" not in str(api_env)


def test_cognito_tenant_claim_and_pkce_client(template, stack):
    (pool,) = template.of_type("AWS::Cognito::UserPool").values()
    schema = {attr["Name"]: attr for attr in pool["Properties"]["Schema"]}
    assert schema["tenant"]["Mutable"] is False
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    (client,) = template.of_type("AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    assert props["GenerateSecret"] is False
    assert props["AllowedOAuthFlows"] == ["code"]
    assert "custom:tenant" in props["ReadAttributes"]
    assert "custom:tenant" not in props["WriteAttributes"]
    distribution = template.logical_id(stack.hosting.distribution)
    # The web app's redirect_uri (frontend/lib/auth.ts) on every allowed origin.
    cloudfront_callbacks = [url for url in props["CallbackURLs"] if distribution in refs(url)]
    assert [url["Fn::Join"][1][-1] for url in cloudfront_callbacks] == ["/signin/callback/"]
    for origin in stack.config.web.allowed_origins:
        assert f"{origin}/signin/callback/" in props["CallbackURLs"]
        assert f"{origin}/" in props["LogoutURLs"]
    (domain,) = template.of_type("AWS::Cognito::UserPoolDomain").values()
    assert domain["Properties"]["Domain"] == stack.config.auth.domain_prefix


def test_web_app_settings_are_delivered_at_deploy_time(template, stack):
    """config.json is written from the stack's tokens by a BucketDeployment: one build of the
    web app serves every environment."""
    api_id = template.logical_id(stack.api.rest_api)
    client_id = template.logical_id(stack.auth.client)
    site_bucket = template.logical_id(stack.hosting.bucket)
    deployments = template.of_type("Custom::CDKBucketDeployment")
    config_deployments = [d for d in deployments.values()
                          if "config.json" in str(d["Properties"].get("DistributionPaths"))]
    (deployment,) = config_deployments
    props = deployment["Properties"]
    assert refs(props["DestinationBucketName"]) == {site_bucket}
    markers = props["SourceMarkers"]
    assert api_id in refs(markers) and client_id in refs(markers)
    assert props["Prune"] is False
    # The site deployment never prunes config.json.
    (site,) = [d for d in deployments.values() if d is not deployment]
    assert site["Properties"]["Exclude"] == ["config.json"]
    config = stack.hosting.config_deployment
    assert config is not None


def test_site_bucket_is_private_behind_cloudfront_oac(template, stack):
    (distribution,) = template.of_type("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert "OriginAccessControlId" in origin
    assert origin["S3OriginConfig"].get("OriginAccessIdentity", "") == ""
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert {e["ErrorCode"]: e["ResponsePagePath"] for e in config["CustomErrorResponses"]} == \
        {403: "/index.html", 404: "/index.html"}
    assert config["Logging"]["Bucket"]
