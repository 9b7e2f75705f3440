"""Changing the in-process handlers' settings for a block of a test, as a redeploy would."""

from __future__ import annotations

import contextlib
import os

from ragline.services import reset as reset_services


@contextlib.contextmanager
def settings_env(**env: str):
    """Change the in-process handlers' settings for a block (as a redeploy would)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    reset_services()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_services()
