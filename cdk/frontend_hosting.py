"""Web hosting: a private S3 bucket behind CloudFront (origin access control), serving the
static export of the web app (frontend/out) with SPA routing.

The build is the same for every environment: the API URL and the Cognito settings reach the
app at deploy time as /config.json (docs/api.md "Web app runtime configuration"), written by a
BucketDeployment from the stack's own tokens and never cached by browsers or CloudFront for
long. If frontend/out has not been built, a placeholder page is deployed; config.json always is.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from ragline.wiring import REPO_ROOT
from ragline_cdk.config import EnvironmentConfig
from ragline_cdk.storage import encrypted_log_group

SITE_DIR = REPO_ROOT / "frontend" / "out"
CONFIG_FILE = "config.json"

PLACEHOLDER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ragline</title></head>
<body><h1>Ragline</h1><p>The web app was not built when this stack was deployed: run
<code>npm ci &amp;&amp; npm run build</code> in <code>frontend/</code>, then deploy again.
The API is up; its settings are in <a href="/config.json">/config.json</a>.</p></body></html>
"""

# Next.js static export: "/documents" is documents/index.html with `trailingSlash: true` (as
# frontend/next.config.ts sets it), documents.html without. Rewrite extensionless paths at the
# edge; unknown paths fall back to the SPA shell (error responses below).
URI_REWRITE = """function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  } else if (uri.split('/').pop().indexOf('.') === -1) {
    request.uri = uri + '%s';
  }
  return request;
}
"""


def page_suffix(site_dir: Path) -> str:
    """How the export names pages: "/index.html" (trailingSlash) or ".html"."""
    if site_dir.is_dir():
        flat_pages = [p for p in site_dir.glob("*.html") if p.name not in ("index.html", "404.html")]
        nested_pages = [p for p in site_dir.glob("*/index.html")]
        if flat_pages and not nested_pages:
            return ".html"
    return "/index.html"


class FrontendHosting(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig,
                 logs_bucket: s3.IBucket, site_dir: Path = SITE_DIR) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.site_dir = site_dir
        self.bucket = s3.Bucket(
            self,
            "SiteBucket",
            # The web app's static files: public by nature, served only through CloudFront.
            # SSE-S3, because CloudFront's origin access control reads it without a key grant.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix="s3/site/",
            # The site is rebuilt from source on every deploy: nothing to retain.
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        rewrite = cloudfront.Function(
            self, "UriRewrite",
            code=cloudfront.FunctionCode.from_inline(URI_REWRITE % page_suffix(site_dir)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Map extensionless paths to the static export's .html files",
        )
        web = config.web
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", web.certificate_arn)
            if web.certificate_arn else None
        )
        site_origin = origins.S3BucketOrigin.with_origin_access_control(self.bucket)
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Ragline {config.name} web app",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=site_origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
                compress=True,
                function_associations=[cloudfront.FunctionAssociation(
                    function=rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                )],
            ),
            additional_behaviors={
                f"/{CONFIG_FILE}": cloudfront.BehaviorOptions(
                    origin=site_origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
                ),
            },
            error_responses=[
                cloudfront.ErrorResponse(http_status=status, response_http_status=200,
                                         response_page_path="/index.html", ttl=Duration.seconds(0))
                for status in (403, 404)
            ],
            # Only settable with a custom certificate; the default *.cloudfront.net one fixes it.
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021
            if certificate else None,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            domain_names=[web.domain_name] if web.domain_name else None,
            certificate=certificate,
            enable_logging=True,
            log_bucket=logs_bucket,
            log_file_prefix="cloudfront/",
        )
        self.uses_default_certificate = certificate is None
        self.domain_name = web.domain_name
        self.site_deployment: s3deploy.BucketDeployment | None = None
        self.config_deployment: s3deploy.BucketDeployment | None = None

    @property
    def origin(self) -> str:
        """The web app's origin (scheme + host), for CORS and Cognito callbacks."""
        if self.domain_name:
            return f"https://{self.domain_name}"
        return f"https://{self.distribution.distribution_domain_name}"

    def deploy(self, *, web_config: dict, key: kms.IKey) -> None:
        """Upload the site (or the placeholder) and /config.json; invalidate CloudFront."""
        built = self.site_dir.is_dir() and (self.site_dir / "index.html").exists()
        site_source = (
            s3deploy.Source.asset(str(self.site_dir), exclude=[CONFIG_FILE]) if built
            else s3deploy.Source.data("index.html", PLACEHOLDER_PAGE)
        )
        self.site_built = built
        # One encrypted log group for the (shared, singleton) deployment handler.
        deploy_logs = encrypted_log_group(self, "DeployLogs", self.config, key)
        self.site_deployment = s3deploy.BucketDeployment(
            self,
            "DeploySite",
            destination_bucket=self.bucket,
            sources=[site_source],
            exclude=[CONFIG_FILE],  # pruning must never delete config.json
            prune=True,
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
            log_group=deploy_logs,
        )
        self.config_deployment = s3deploy.BucketDeployment(
            self,
            "DeployConfig",
            destination_bucket=self.bucket,
            sources=[s3deploy.Source.json_data(CONFIG_FILE, web_config)],
            prune=False,
            cache_control=[s3deploy.CacheControl.no_cache()],
            content_type="application/json",
            distribution=self.distribution,
            distribution_paths=[f"/{CONFIG_FILE}"],
            memory_limit=512,  # the same singleton handler as the site deployment
            log_group=deploy_logs,
        )
        self.config_deployment.node.add_dependency(self.site_deployment)
