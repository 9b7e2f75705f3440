"""The process-wide implementations of each port, built once from settings.

Lambda containers and the local runtime both reuse these across invocations (connections,
models and engines are expensive to open). Tests call `reset()` after changing settings.
"""

from __future__ import annotations

import threading
from functools import cached_property

from ragline.settings import Settings, get_settings


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()  # cached_property is not thread-safe on its own

    @cached_property
    def catalog(self):
        from ragline.catalog import make_catalog

        with self._lock:
            return make_catalog(self.settings)

    @cached_property
    def index(self):
        from ragline.index import make_index

        with self._lock:
            return make_index(self.settings)

    @cached_property
    def embedder(self):
        from ragline.embeddings import make_embedder

        with self._lock:
            return make_embedder(self.settings)

    @cached_property
    def cache(self):
        from ragline.cache import make_cache

        with self._lock:
            return make_cache(self.settings)

    @cached_property
    def llm(self):
        from ragline.llm import make_llm

        with self._lock:
            return make_llm(self.settings)

    @cached_property
    def storage(self):
        from ragline.storage import ObjectStorage

        with self._lock:
            return ObjectStorage.from_settings(self.settings)


_services: Services | None = None
_services_lock = threading.Lock()


def get_services() -> Services:
    global _services
    with _services_lock:
        if _services is None:
            _services = Services(get_settings())
        return _services


def reset() -> None:
    """Forget cached settings and implementations (tests, `ragline dev` restarts)."""
    global _services
    with _services_lock:
        _services = None
        get_settings.cache_clear()
