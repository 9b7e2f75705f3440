"""How the local runtime keeps many documents at once from drowning one machine.

On AWS three things bound the work: a Lambda function's reserved concurrency (at most N
invocations at once; Step Functions waits for a slot through its Retry on throttling), the
function timeout (Lambda stops an invocation at its deadline, so a timed-out task leaves no
late work behind), and separate machines per invocation. In one process none of that exists
by itself, so this module models the first two and bounds the threads instead of the third:

- `FunctionSlots`: one semaphore per function, sized by the function's reserved concurrency in
  the local Lambda (`PutFunctionConcurrency`, as CDK sets it on AWS). A task takes its slot
  BEFORE its Step Functions timeout clock starts: waiting for capacity never counts as a step
  timeout, the way a throttled invocation on AWS has not started yet.
- `CancellableCall`: runs one handler invocation in its own thread; when the task times out the
  call is cancelled by raising `InvocationCancelled` inside that thread (the local stand-in for
  Lambda stopping the sandbox). Python checks for it between bytecodes, so a handler stops at
  its next line of Python and cannot make a write after its deadline; only a call already
  inside C code (a model's forward pass, one SQL statement) finishes first. The slot is given
  back when the handler has really stopped, so a retry waits for the capacity it frees.
- `ExecutionPool`: at most `max_running` state machine executions evaluate at once (each holds
  a few engine threads); the others stay RUNNING in the API and queue, so 1,000 uploads no
  longer mean 2,000+ threads.
"""

from __future__ import annotations

import ctypes
import queue
import threading
from collections.abc import Callable
from typing import Any

DEFAULT_MAX_RUNNING_EXECUTIONS = 16


class InvocationCancelled(BaseException):
    """Raised inside a handler whose task timed out. A BaseException, so the handler's own
    `except Exception` clauses (which turn errors into results) cannot swallow it."""


def _raise_in_thread(thread_id: int, exception: type[BaseException] | None) -> int:
    """Schedule `exception` in another thread (None clears a pending one); returns how many
    threads were affected (0: that thread has already ended)."""
    return ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception else ctypes.c_void_p(0)
    )


class Slot:
    """One unit of a function's concurrency; `release` is idempotent."""

    def __init__(self, semaphore: threading.Semaphore | None) -> None:
        self._semaphore = semaphore
        self._released = threading.Event()

    def release(self) -> None:
        if self._semaphore is not None and not self._released.is_set():
            self._released.set()
            self._semaphore.release()


class FunctionSlots:
    """Per-function concurrency, read from the function's reserved concurrency."""

    def __init__(self) -> None:
        self._semaphores: dict[str, tuple[int, threading.Semaphore]] = {}
        self._lock = threading.Lock()
        self.waits = 0  # how many acquisitions had to wait (a figure for benchmarks)

    def _semaphore(self, function: str, limit: int | None) -> threading.Semaphore | None:
        if not limit:
            return None
        with self._lock:
            known = self._semaphores.get(function)
            if known is None or known[0] != limit:  # new function, or its reservation changed
                known = (limit, threading.Semaphore(limit))
                self._semaphores[function] = known
            return known[1]

    def acquire(self, function: str, limit: int | None, give_up: Callable[[], bool] = lambda: False) -> Slot | None:
        """Wait for a slot; None when `give_up()` turns true first (the execution was stopped)."""
        semaphore = self._semaphore(function, limit)
        if semaphore is None:
            return Slot(None)
        if semaphore.acquire(blocking=False):
            return Slot(semaphore)
        with self._lock:
            self.waits += 1
        while not semaphore.acquire(timeout=0.5):
            if give_up():
                return None
        return Slot(semaphore)


class CancellableCall:
    """Run `target()` in a thread of its own; `cancel()` stops it at its next Python line.

    At most one cancellation is ever sent, and the thread clears it under the lock when it
    finishes, so the exception can only land in the handler or in the short clean-up, which
    then simply runs again."""

    def __init__(self, target: Callable[[], Any], on_end: Callable[[], None], name: str) -> None:
        self._target = target
        self._on_end = on_end
        self._lock = threading.Lock()
        self._running = True
        self._cancel_sent = False
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.cancelled = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "CancellableCall":
        self._thread.start()
        return self

    def wait(self, timeout_s: float | None) -> bool:
        return self.done.wait(timeout_s)

    def cancel(self) -> None:
        with self._lock:
            if self._running and not self._cancel_sent and self._thread.ident is not None:
                self._cancel_sent = True
                self.cancelled = True
                _raise_in_thread(self._thread.ident, InvocationCancelled)

    def _run(self) -> None:
        try:
            try:
                self.result = self._target()
            except InvocationCancelled:
                pass
            except BaseException as error:  # reported to the waiting task, as moto's own thread does
                self.error = error
        except InvocationCancelled:  # landed while recording the outcome
            pass
        for _ in range(2):  # a cancellation can land once, inside the first attempt
            try:
                self._finish()
                return
            except InvocationCancelled:
                continue

    def _finish(self) -> None:
        with self._lock:
            self._running = False
            if self._cancel_sent:
                _raise_in_thread(threading.get_ident(), None)  # drop it if still pending
        self._on_end()
        self.done.set()


class ExecutionPool:
    """A fixed set of threads that evaluate state machine executions, in the order started."""

    def __init__(self, max_running: int = DEFAULT_MAX_RUNNING_EXECUTIONS) -> None:
        self.max_running = max_running
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, run: Callable[[], None]) -> None:
        with self._lock:
            if len(self._threads) < self.max_running:
                thread = threading.Thread(target=self._work, name=f"ragline-execution-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._queue.put(run)

    def _work(self) -> None:
        while True:
            run = self._queue.get()
            try:
                run()
            except Exception:  # an engine failure ends that execution only, never the pool
                pass


class IdleTrimmer:
    """Gives memory back to the OS once no handler has run for a while.

    A 2,400-page PDF needs its text and layout while it is extracted; afterwards glibc keeps
    the freed arenas, so the process stayed at its peak while idle. Every `interval_s` a single
    thread checks: invocations ran since the last trim and none runs now -> collect cycles and
    `malloc_trim(0)`. (A Lambda gets a fresh sandbox for that; one process has to do it.)"""

    def __init__(self, interval_s: float = 2.0) -> None:
        self.interval_s = interval_s
        self._running = 0
        self._since_trim = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        try:
            self._malloc_trim: Callable[[int], int] | None = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc: nothing to trim
            self._malloc_trim = None

    def entered(self) -> None:
        with self._lock:
            self._running += 1
            self._since_trim += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="ragline-idle-trim", daemon=True)
                self._thread.start()

    def left(self) -> None:
        with self._lock:
            self._running -= 1

    def _loop(self) -> None:
        import gc
        import time

        while True:
            time.sleep(self.interval_s)
            with self._lock:
                idle = self._running == 0 and self._since_trim > 0
                if idle:
                    self._since_trim = 0
            if idle:
                gc.collect()
                if self._malloc_trim is not None:
                    self._malloc_trim(0)


M_ARENA_MAX = -8  # glibc mallopt parameter


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas for the threads created from now on (MALLOC_ARENA_MAX, set
    at run time). Every task runs in a thread of its own, and glibc gives new threads new
    arenas (up to 8 per core) that are never returned: a long ingestion's RSS crept up with
    them. Returns False where there is no glibc."""
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False
