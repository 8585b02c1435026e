"""Spread work over processes: forked workers that inherit the parent's state instead of pickling it."""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import pickle
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar, cast

from .errors import WorkerDied
from .stopping import STOP_SIGNALS

T = TypeVar("T")
R = TypeVar("R")
# How long a process gets to end after its work before it is killed (one stopped meanwhile is killed at once).
END_SECONDS = 5.0
PR_SET_PDEATHSIG = 1


class WorkerError(RuntimeError):
    """An exception raised in a worker process, with its traceback as text."""


def default_jobs() -> int:
    """Return the number of processes to use: one per available core."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Tell whether workers can be forked (Linux); elsewhere work runs in this process."""
    return sys.platform == "linux"


def fork_map(
    work: Callable[[T], R], chunks: Sequence[T], jobs: int, arrived: Callable[[R], R] | None = None
) -> list[R]:
    """Run `work` on every chunk in up to `jobs` forked processes; return the results in chunk order.

    Forked workers see everything the parent built (the site model, compiled templates), so only
    the chunks' results travel back, pickled. `arrived` is called in this process with each result as
    it comes in (to count progress, or store and drop what need not be kept); its return is kept.
    """
    jobs = min(jobs, len(chunks))
    if jobs <= 1 or not can_fork():
        return [arrived(work(chunk)) if arrived else work(chunk) for chunk in chunks]
    context = multiprocessing.get_context("fork")
    counter = context.Value("i", 0)
    pipes: list[Connection] = []
    workers = []
    results: dict[int, Any] = {}
    failure: Failure | None = None
    done = False
    try:
        with _interrupt_held():  # a stop while forking is raised here, once every worker is known to `_end`
            for _ in range(jobs):
                receive, send = context.Pipe(duplex=False)
                worker = context.Process(target=_serve, args=(work, chunks, counter, send, os.getpid()), daemon=True)
                worker.start()
                send.close()
                pipes.append(receive)
                workers.append(worker)
        owner = dict(zip(pipes, workers, strict=True))
        open_pipes = list(pipes)
        while open_pipes and failure is None:
            for ready in wait(open_pipes):
                pipe = cast(Connection, ready)  # wait() returns what it was given: our pipes
                try:
                    index, ok, value = pipe.recv()
                except EOFError:
                    open_pipes.remove(pipe)
                    # A worker killed outright (out of memory) may hold the chunk counter's lock: the
                    # others would wait for it for ever. Its death ends the map at once.
                    worker = owner[pipe]
                    worker.join(END_SECONDS)
                    if worker.exitcode != 0:
                        raise WorkerDied(worker.exitcode) from None
                    continue
                if not ok:  # the first failure is raised; the other workers are stopped
                    failure = value
                    break
                results[index] = arrived(value) if arrived else value
        done = failure is None
    finally:
        # Anything raised here (Ctrl+C, a failing `arrived`) leaves workers that may be blocked
        # writing a result nobody will read: they are stopped, never waited for without end.
        _end(workers, done)
        for pipe in pipes:
            pipe.close()
    if failure:
        _raise(failure)
    missing = [i for i in range(len(chunks)) if i not in results]
    if missing:
        codes = ", ".join(str(w.exitcode) for w in workers)
        raise WorkerError(f"a worker process died before finishing its chunks (exit codes {codes})")
    return [results[i] for i in range(len(chunks))]


class Background:
    """A call running in a forked process, started at once; `result()` waits for what it returns.

    Where processes cannot be forked the call runs in this process, when its result is asked for.
    A call whose result is not asked for is stopped by `close()`.
    """

    def __init__(self, work: Callable[[], Any]) -> None:
        self.work: Callable[[], Any] | None = work
        self.pipe: Connection | None = None
        self.worker: multiprocessing.process.BaseProcess | None = None
        self.received = False
        if can_fork():
            context = multiprocessing.get_context("fork")
            self.pipe, send = context.Pipe(duplex=False)
            self.worker = context.Process(target=_run_one, args=(work, send, os.getpid()), daemon=True)
            self.work = None
            try:
                with _interrupt_held():
                    self.worker.start()
                    send.close()
            except KeyboardInterrupt:  # nobody would be left to stop the process, if it was forked
                if self.worker.pid is not None:
                    self.close()
                raise

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the call (at most `timeout` seconds) and return its result, or raise its exception.

        A process that dies, or does not answer in time, raises WorkerError (and is stopped).
        """
        if self.work is not None:
            return self.work()
        assert self.pipe is not None and self.worker is not None
        try:
            if not self.pipe.poll(timeout):
                raise WorkerError(f"a worker process did not finish within {timeout:g} s")
            ok, value = self.pipe.recv()
            self.received = True
        except EOFError:
            self.worker.join(END_SECONDS)  # to report how it ended
            raise WorkerError(f"a worker process died before finishing (exit code {self.worker.exitcode})") from None
        finally:
            self.close()
        if not ok:
            _raise(value)
        return value

    def close(self) -> None:
        """End the process: let it exit once its result was taken, else stop it (it may be blocked sending it)."""
        if self.worker is not None:
            _end([self.worker], self.received)
        if self.pipe is not None:
            self.pipe.close()


@contextmanager
def _interrupt_held() -> Iterator[None]:
    """Hold Ctrl+C (and the other stop signals) back while processes are forked; it is raised when the block ends.

    Arriving in the middle of a fork, it would be raised inside the hooks Python runs around it (the
    logging module's), where it can only be printed with a traceback, and lost. A worker starts with
    them held too, until it ignores them (`_adopt`).
    """
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _end(processes: Sequence[multiprocessing.process.BaseProcess], done: bool) -> None:
    """End worker processes within a bound: those whose work is `done` may exit by themselves, others are stopped."""
    if not done:
        for process in processes:
            process.kill()  # a worker ignores the stop signals (`_adopt`)
    deadline = time.monotonic() + END_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join(END_SECONDS)


def _adopt(parent: int) -> None:
    """Set up a forked worker: a stop signal is for the parent to handle, and the worker dies with the parent."""
    # A terminal sends Ctrl+C to every process of the build, as `timeout`, a CI cancellation and systemd send
    # SIGTERM: the parent stops its workers itself, once it has stopped what they do.
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # held while forking: those held are dropped now
    # A parent killed outright (SIGKILL, out of memory) must not leave workers holding the output's lock.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    gc.enable()  # the parent may have paused its cycle collector (inputs.collector_paused); a worker needs it


def _run_one(work: Callable[[], Any], send: Connection, parent: int) -> None:
    """Run one call and send back its result, or its failure."""
    _adopt(parent)
    try:
        send.send((True, work()))
    except BaseException as exc:
        send.send((False, _failure(exc)))
    send.close()


def _serve(work: Callable[[Any], Any], chunks: Sequence[Any], counter: Any, send: Connection, parent: int) -> None:
    """Take chunks one at a time from the shared counter and send back each result, or the failure."""
    _adopt(parent)
    while True:
        with counter.get_lock():
            index = counter.value
            counter.value = index + 1
        if index >= len(chunks):
            break
        try:
            send.send((index, True, work(chunks[index])))
        except BaseException as exc:
            send.send((index, False, _failure(exc)))
            break
    send.close()


Failure = tuple[BaseException | None, str]


def _failure(exc: BaseException) -> Failure:
    """Describe an exception of a worker for the parent: itself (if it can be pickled) and its traceback."""
    return _picklable(exc), traceback.format_exc()


def _raise(failure: Failure) -> None:
    """Raise a worker's exception in the parent, the worker's traceback riding along as its cause."""
    error, text = failure
    raise (error or WorkerError(text)) from WorkerError(text)


def _picklable(exc: BaseException) -> BaseException | None:
    """Return the exception if it survives pickling unchanged in type, else None."""
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except (pickle.PicklingError, TypeError, AttributeError, ValueError):
        return None
    return copy if type(copy) is type(exc) else None


def chunked(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Split a sequence into consecutive chunks of at most `size`."""
    return [items[i : i + size] for i in range(0, len(items), size)]
