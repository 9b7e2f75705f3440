"""A deployed function with a missing or invalid setting refuses to start, naming the variable
(issue 9); locally (no AWS_LAMBDA_FUNCTION_NAME, or the local runtime) defaults still apply."""

from __future__ import annotations

import pytest

from ragline import wiring
from ragline.settings import SettingsError, check_deployed, refuse_to_start_misconfigured, running_on_lambda

DEPLOYED_FINALIZE = {
    "AWS_LAMBDA_FUNCTION_NAME": "ragline-prod-Finalize-abc",
    "RAGLINE_ENVIRONMENT": "prod",
    "RAGLINE_FUNCTION": "finalize",
    "RAGLINE_CATALOG_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:catalog",
    "RAGLINE_QDRANT_URL": "https://qdrant.example.com",
    "RAGLINE_QDRANT_ENGINE": "server",
    "RAGLINE_QDRANT_API_KEY_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:qdrant",
    "RAGLINE_EMBEDDING_DIMENSIONS": "1536",
    "RAGLINE_REDIS_URL": "rediss://cache:6379",
}


@pytest.fixture
def deployed(monkeypatch):
    for variable in list(__import__("os").environ):
        if variable.startswith("RAGLINE_") or variable == "AWS_LAMBDA_FUNCTION_NAME":
            monkeypatch.delenv(variable)

    def apply(**overrides: str | None) -> None:
        for variable, value in {**DEPLOYED_FINALIZE, **overrides}.items():
            if value is None:
                monkeypatch.delenv(variable, raising=False)
            else:
                monkeypatch.setenv(variable, value)

    return apply


def test_a_complete_configuration_starts(deployed):
    deployed()
    settings = check_deployed()
    assert settings.qdrant_engine == "server" and settings.embedding_dimensions == 1536


@pytest.mark.parametrize("missing", ["RAGLINE_QDRANT_URL", "RAGLINE_REDIS_URL", "RAGLINE_QDRANT_API_KEY_SECRET_ARN"])
def test_a_missing_setting_is_named(deployed, missing):
    deployed(**{missing: None})
    with pytest.raises(SettingsError, match=missing):
        refuse_to_start_misconfigured()


def test_no_catalog_setting_refuses_rather_than_falling_back_to_sqlite(deployed):
    deployed(RAGLINE_CATALOG_SECRET_ARN=None)
    with pytest.raises(SettingsError, match="RAGLINE_CATALOG_SECRET_ARN or RAGLINE_CATALOG_URL"):
        check_deployed()
    deployed(RAGLINE_CATALOG_SECRET_ARN=None, RAGLINE_CATALOG_URL="sqlite:////tmp/catalog.db")
    with pytest.raises(SettingsError, match="SQLite"):
        check_deployed()


def test_an_embedded_index_refuses_on_aws(deployed):
    deployed(RAGLINE_QDRANT_ENGINE="edge")
    with pytest.raises(SettingsError, match="RAGLINE_QDRANT_ENGINE must be 'server'"):
        check_deployed()


def test_an_invalid_value_is_named(deployed):
    deployed(RAGLINE_EMBEDDING_DIMENSIONS="lots")
    with pytest.raises(SettingsError, match="RAGLINE_EMBEDDING_DIMENSIONS"):
        check_deployed()


def test_an_unknown_function_is_named(deployed):
    deployed(RAGLINE_FUNCTION=None)
    with pytest.raises(SettingsError, match="RAGLINE_FUNCTION is missing"):
        check_deployed()


def test_only_a_deployed_lambda_is_checked(deployed):
    deployed(RAGLINE_QDRANT_URL=None)
    assert running_on_lambda()
    deployed(RAGLINE_QDRANT_URL=None, RAGLINE_ENVIRONMENT="local")  # the local runtime
    assert not running_on_lambda()
    refuse_to_start_misconfigured()  # no-op
    deployed(RAGLINE_QDRANT_URL=None, AWS_LAMBDA_FUNCTION_NAME=None)
    refuse_to_start_misconfigured()


def test_every_function_knows_the_settings_of_its_uses():
    for spec in [*wiring.FUNCTIONS.values(), *wiring.DEPLOY_FUNCTIONS.values()]:
        for use in spec.uses:
            assert use in wiring.SETTINGS_FOR_USE, (spec.name, use)
