"""The signals that stop a command: each ends it as Ctrl+C does, with the same clean-up, message and kind of status."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# Ctrl+C; what `kill`, `timeout`, a CI cancellation and systemd send; a terminal closed under the command.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopReported(KeyboardInterrupt):
    """A stop (Ctrl+C, SIGTERM, SIGHUP) whose message the command printed itself."""


@contextmanager
def stopped_as_by_ctrl_c() -> Iterator[list[signal.Signals]]:
    """Raise KeyboardInterrupt on every stop signal, as Python does on Ctrl+C; yield the list of those received.

    Every clean-up of a stopped command (the output left as it was, its lock released, its workers stopped)
    is written for KeyboardInterrupt, so it serves them all. A signal ignored when the command starts
    (`nohup`, a script's background job) stays ignored. Only the main thread can set handlers: elsewhere
    nothing changes. The handlers are put back on leaving.
    """
    received: list[signal.Signals] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def stop(number: int, frame: FrameType | None) -> None:
        """Note the signal and stop the command as Ctrl+C does."""
        received.append(signal.Signals(number))
        raise KeyboardInterrupt

    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    for number, handler in previous.items():
        if handler != signal.SIG_IGN:
            signal.signal(number, stop)
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
