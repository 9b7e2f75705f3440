"""Sign-in: a Cognito user pool whose users carry an immutable ``custom:tenant`` attribute
(set by an administrator at invitation, never by the user), its hosted domain, and the web
app's client (authorization code flow with PKCE, no client secret: it is a browser app).

The API's authorizer accepts this pool's id tokens; the API reads the tenant from the
``custom:tenant`` claim and the role from ``cognito:groups``: the pool has one group per role
(reader, editor, admin; ``ragline.access.roles``), and a user in none is a reader (docs/api.md).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from ragline.access.roles import Role
from ragline_cdk.config import EnvironmentConfig

TENANT_ATTRIBUTE = "tenant"  # the claim is "custom:tenant"
# The role groups (ragline.access.roles), most privileged first: Cognito puts a user's groups
# in the id token's cognito:groups claim, which the API reads the role from.
ROLE_GROUPS: tuple[tuple[str, str], ...] = (
    (Role.admin.value, "Ragline admins: manage collections and grants, see insights and the audit trail"),
    (Role.editor.value, "Ragline editors: upload and delete documents"),
    (Role.reader.value, "Ragline readers: ask, search, chat, give feedback (also users in no group)"),
)
SCOPES = ["openid", "email", "profile"]
# Where the web app receives the authorization code and where sign-out returns
# (frontend/lib/auth.ts: `${origin}/signin/callback/`, logout_uri `${origin}/`).
CALLBACK_PATH = "/signin/callback/"
LOGOUT_PATH = "/"


class AuthConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig,
                 web_origins: list[str]) -> None:
        super().__init__(scope, construct_id)
        auth = config.auth
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"ragline-{config.name}",
            self_sign_up_enabled=False,  # users are invited with their tenant
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
            ),
            custom_attributes={
                TENANT_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=64, mutable=False),
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED if auth.mfa == "required" else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS if auth.threat_protection
            else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION
            if auth.threat_protection else None,
            deletion_protection=config.deletion_protection,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.groups = {
            name: cognito.CfnUserPoolGroup(
                self, f"{name.title()}Group", user_pool_id=self.user_pool.user_pool_id,
                group_name=name, description=description, precedence=precedence,
            )
            for precedence, (name, description) in enumerate(ROLE_GROUPS)
        }
        self.domain = self.user_pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=auth.domain_prefix),
        )
        callback_urls = [f"{origin}{CALLBACK_PATH}" for origin in web_origins]
        logout_urls = [f"{origin}{LOGOUT_PATH}" for origin in web_origins]
        self.client = self.user_pool.add_client(
            "WebClient",
            user_pool_client_name=f"ragline-{config.name}-web",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL,
                        cognito.OAuthScope.PROFILE],
                callback_urls=callback_urls,
                logout_urls=logout_urls,
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(7),
            # The tenant is readable in the id token but never writable by the user.
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True, fullname=True)
            .with_custom_attributes(TENANT_ATTRIBUTE),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
        )

    @property
    def base_url(self) -> str:
        return self.domain.base_url()

    def web_app_auth_config(self) -> dict:
        """The ``auth`` block of the web app's /config.json (docs/api.md)."""
        base = self.base_url
        return {
            "mode": "cognito",
            "authorizeUrl": f"{base}/oauth2/authorize",
            "tokenUrl": f"{base}/oauth2/token",
            "logoutUrl": f"{base}/logout",
            "clientId": self.client.user_pool_client_id,
            "scopes": SCOPES,
        }
