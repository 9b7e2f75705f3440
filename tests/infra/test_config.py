"""The per-environment settings in cdk.json are validated by a typed model."""

from __future__ import annotations

import copy

import pytest

from ragline_cdk.app_builder import cdk_json_context
from ragline_cdk.config import ConfigError, load_environments, selected_environments


@pytest.fixture()
def context() -> dict:
    return copy.deepcopy(cdk_json_context())


def _env(context: dict, name: str = "dev") -> dict:
    return context["ragline"]["environments"][name]


def test_cdk_json_describes_dev_staging_and_prod(context):
    environments = load_environments(context)
    assert list(environments) == ["dev", "staging", "prod"]
    dev, prod = environments["dev"], environments["prod"]
    assert (dev.retain_data, dev.deletion_protection) == (False, False)
    assert (prod.retain_data, prod.deletion_protection) == (True, True)
    assert dev.catalog.edition == "express"  # the default
    assert prod.auth.mfa == "required"
    assert dev.compute.architecture == "arm64"


def test_one_environment_is_selected_with_env_context(context):
    assert [c.name for c in selected_environments({**context, "env": "prod"})] == ["prod"]
    with pytest.raises(ConfigError, match="no such environment"):
        selected_environments({**context, "env": "qa"})


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"account": "12345"}, "account"),
        ({"log_retention_days": 10}, "log_retention_days"),
        ({"qdrant_url": "http://qdrant.internal:6333"}, "https"),
        ({"network": {"availability_zones": ["us-east-1a", "us-east-1b"], "nat_gateways": 3}},
         "nat_gateways"),
        ({"network": {"availability_zones": ["eu-west-1a", "eu-west-1b"]}}, "not in region"),
        ({"catalog": {"multi_az": True}}, "Multi-AZ"),
        ({"web": {"allowed_origins": ["http://example.com"]}}, "localhost"),
        ({"auth": {"domain_prefix": "my-cognito-app"}}, "cognito"),
        ({"monitoring": {"alarm_email": "nobody"}}, "e-mail"),
        ({"compute": {"embed_reserved_concurrency": 0}}, "embed_reserved_concurrency"),
        ({"catalgo": {}}, "catalgo"),  # typos are refused, not ignored
    ],
)
def test_invalid_settings_fail_with_the_field_named(context, patch, message):
    env = _env(context)
    for key, value in patch.items():
        env[key] = {**env.get(key, {}), **value} if isinstance(value, dict) and key in env else value
    with pytest.raises(ConfigError, match=message) as error:
        load_environments(context)
    assert "'dev'" in str(error.value)


def test_defaults_are_deep_merged_under_each_environment(context):
    _env(context)["catalog"] = {"instance_type": "t3.large"}
    dev = load_environments(context)["dev"]
    assert dev.catalog.instance_type == "t3.large"
    # the rest of the catalog block still comes from the defaults
    assert dev.catalog.max_allocated_storage_gb == \
        context["ragline"]["defaults"]["catalog"]["max_allocated_storage_gb"]
