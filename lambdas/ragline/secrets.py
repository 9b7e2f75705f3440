"""Secrets from AWS Secrets Manager, resolved from the settings' ``*_secret_arn`` fields.

Why a helper: on AWS no secret value may sit in an environment variable or a CloudFormation
output, so the stack passes ARNs and each function resolves them at first use. Locally the
plain fields (``RAGLINE_OPENAI_API_KEY`` …) are set instead and no AWS call is made.
(The catalog URL from its RDS secret is built by ``ragline.catalog.engine.catalog_url``.)
Values are cached in the process (Powertools' parameter cache) for ``max_age`` seconds so a
warm Lambda container does not call Secrets Manager per request, yet picks up rotations.
"""

from __future__ import annotations

import json
from typing import Any

from ragline.settings import Settings

SECRET_MAX_AGE_S = 300


def get_secret_value(arn: str, *, max_age: int = SECRET_MAX_AGE_S) -> str:
    """The secret string stored under ``arn`` (cached per process for ``max_age`` seconds)."""
    from aws_lambda_powertools.utilities.parameters import get_secret

    value = get_secret(arn, max_age=max_age)
    return value.decode() if isinstance(value, bytes) else str(value)


def _secret_json(arn: str) -> dict[str, Any] | None:
    """The secret parsed as a JSON object, or None when it is a plain string."""
    raw = get_secret_value(arn)
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _api_key(plain: str | None, arn: str | None, json_keys: tuple[str, ...]) -> str | None:
    """A plain value wins; else the secret, either a bare string or JSON with one of json_keys."""
    if plain:
        return plain
    if not arn:
        return None
    parsed = _secret_json(arn)
    if parsed is None:
        return get_secret_value(arn).strip()
    for key in json_keys:
        if parsed.get(key):
            return str(parsed[key])
    raise ValueError(f"secret {arn} has none of the keys {', '.join(json_keys)}")


def openai_api_key(settings: Settings) -> str | None:
    """The OpenAI(-compatible) API key: RAGLINE_OPENAI_API_KEY, else its secret."""
    return _api_key(
        settings.openai_api_key,
        settings.openai_api_key_secret_arn,
        ("api_key", "OPENAI_API_KEY", "apiKey", "key"),
    )


def qdrant_api_key(settings: Settings) -> str | None:
    """The Qdrant API key: RAGLINE_QDRANT_API_KEY, else its secret."""
    return _api_key(
        settings.qdrant_api_key,
        settings.qdrant_api_key_secret_arn,
        ("api_key", "QDRANT_API_KEY", "apiKey", "key"),
    )
