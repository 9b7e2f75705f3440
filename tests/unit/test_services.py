"""`Services` builds each port once, even when threads ask for it at the same moment."""

from __future__ import annotations

import threading
import time

import ragline.cache
from ragline.services import Services
from ragline.settings import Settings


def test_a_port_is_built_once_under_concurrent_first_use(monkeypatch) -> None:
    built: list[object] = []

    def slow_make_cache(settings: Settings) -> object:
        time.sleep(0.05)  # wide window for a second builder
        built.append(object())
        return built[-1]

    monkeypatch.setattr(ragline.cache, "make_cache", slow_make_cache)
    services = Services(Settings())
    barrier = threading.Barrier(8)
    seen: list[object] = []

    def use() -> None:
        barrier.wait()
        seen.append(services.cache)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert all(port is built[0] for port in seen) and len(seen) == 8
    assert services.__dict__["cache"] is built[0]  # where local/runtime.py looks for opened ports
