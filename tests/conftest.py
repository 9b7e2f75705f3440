"""Shared fixtures. The local stack (moto + in-process handlers + gateway) is started once per
session, the way `ragline dev` starts it, and shared by the integration and browser tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPORA = REPO_ROOT.parent / "shared" / "corpora"

# Powertools: no X-Ray daemon, no EMF on stdout, quiet logs in tests.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "RaglineTests")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ragline")


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.exists():
        pytest.fail(f"sample corpora not found at {CORPORA} (they come with the workspace's shared/ folder)")
    return CORPORA


@dataclass
class LocalStackHandle:
    stack: "object"
    web_url: str
    api_url: str
    tenant: str

    @property
    def endpoints(self) -> dict:
        return self.stack.endpoints()

    @property
    def catalog(self):
        from ragline.services import get_services

        return get_services().catalog

    @property
    def index(self):
        from ragline.services import get_services

        return get_services().index

    def client(self, tenant: str | None = None):
        from ragline_local.client import RaglineClient

        return RaglineClient.from_endpoints(self.endpoints, tenant or self.tenant)

    def aws(self, service: str):
        return self.stack.aws.client(service)


@pytest.fixture
def local_stack(_local_stack_session: LocalStackHandle) -> LocalStackHandle:
    """The whole local system on free ports, with the deterministic embedder (one per session)."""
    _local_stack_session.stack.aws.ensure_resources()
    return _local_stack_session


@pytest.fixture(scope="session")
def _local_stack_session(tmp_path_factory) -> LocalStackHandle:
    from ragline_local.runtime import DevStack, LocalConfig, free_port

    home = tmp_path_factory.mktemp("ragline-home")
    config = LocalConfig(home=home, aws_port=free_port(), embedder="hash")
    stack = DevStack(config, gateway_port=free_port()).start()
    endpoints = stack.endpoints()
    try:
        yield LocalStackHandle(stack, endpoints["web_url"], endpoints["api_url"], "acme")
    finally:
        stack.stop()
