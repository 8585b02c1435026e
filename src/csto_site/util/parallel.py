"""Spread work over processes: forked workers that inherit the parent's state instead of pickling it."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import sys
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


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


def fork_map(work: Callable[[T], R], chunks: Sequence[T], jobs: int,
             arrived: Callable[[R], R] | None = None) -> list[R]:
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
    for _ in range(jobs):
        receive, send = context.Pipe(duplex=False)
        worker = context.Process(target=_serve, args=(work, chunks, counter, send), daemon=True)
        worker.start()
        send.close()
        pipes.append(receive)
        workers.append(worker)
    results: dict[int, Any] = {}
    failure: Failure | None = None
    try:
        open_pipes = list(pipes)
        while open_pipes:
            for pipe in wait(open_pipes):
                try:
                    index, ok, value = pipe.recv()  # type: ignore[union-attr]
                except EOFError:
                    open_pipes.remove(pipe)
                    continue
                if not ok:
                    failure = failure or value
                    with counter.get_lock():
                        counter.value = len(chunks)  # the other workers take no more chunks
                    continue
                results[index] = arrived(value) if arrived else value
    finally:
        for worker in workers:
            worker.join()
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
    """

    def __init__(self, work: Callable[[], Any]) -> None:
        self.work: Callable[[], Any] | None = work
        self.pipe: Connection | None = None
        self.worker: multiprocessing.process.BaseProcess | None = None
        if can_fork():
            context = multiprocessing.get_context("fork")
            self.pipe, send = context.Pipe(duplex=False)
            self.worker = context.Process(target=_run_one, args=(work, send), daemon=True)
            self.worker.start()
            send.close()
            self.work = None

    def result(self) -> Any:
        """Wait for the call and return its result, or raise its exception."""
        if self.work is not None:
            return self.work()
        assert self.pipe is not None and self.worker is not None
        try:
            ok, value = self.pipe.recv()
        except EOFError:
            raise WorkerError(f"a worker process died before finishing (exit code {self.worker.exitcode})") from None
        finally:
            self.close()
        if not ok:
            _raise(value)
        return value

    def close(self) -> None:
        """Wait for the process to end, whether or not its result was asked for."""
        if self.worker is not None:
            self.worker.join()
        if self.pipe is not None:
            self.pipe.close()


def _run_one(work: Callable[[], Any], send: Connection) -> None:
    """Run one call and send back its result, or its failure."""
    gc.enable()  # as in _serve: the parent may have paused its cycle collector
    try:
        send.send((True, work()))
    except BaseException as exc:
        send.send((False, _failure(exc)))
    send.close()


def _serve(work: Callable[[Any], Any], chunks: Sequence[Any], counter: Any, send: Connection) -> None:
    """Take chunks one at a time from the shared counter and send back each result, or the failure."""
    gc.enable()  # the parent may have paused its cycle collector (inputs.collector_paused); a worker needs it
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
    return [items[i:i + size] for i in range(0, len(items), size)]
