"""The process-wide implementations of each port, built once from settings.

Lambda containers and the local runtime both reuse these across invocations (connections,
models and engines are expensive to open). Tests call `reset()` after changing settings.
"""

from __future__ import annotations

import functools
import importlib
import threading
from typing import Any

from ragline.settings import Settings, get_settings


class _Port:
    """A port built on first use, exactly once per `Services`, then kept in the instance
    ``__dict__`` (where later reads find it directly, as with ``cached_property``).

    Why not ``functools.cached_property``: it has no lock since Python 3.12, so two threads of
    the local runtime asking for the same port at once would both build it (a second model load,
    a second engine). Here the check is repeated under the lock. Factories are imported lazily so
    a function only loads the backends it uses.
    """

    def __init__(self, module: str, factory: str) -> None:
        self.module, self.factory = module, factory  # factory: a name in module, may be dotted

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, services: "Services | None", owner: type | None = None) -> Any:
        if services is None:
            return self
        with services._lock:
            if self.name not in services.__dict__:
                make = functools.reduce(getattr, self.factory.split("."), importlib.import_module(self.module))
                services.__dict__[self.name] = make(services.settings)
            return services.__dict__[self.name]


class Services:
    catalog = _Port("ragline.catalog", "make_catalog")
    index = _Port("ragline.index", "make_index")
    embedder = _Port("ragline.embeddings", "make_embedder")
    cache = _Port("ragline.cache", "make_cache")
    llm = _Port("ragline.llm", "make_llm")
    storage = _Port("ragline.storage", "ObjectStorage.from_settings")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()  # re-entrant: a factory may read another port


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
