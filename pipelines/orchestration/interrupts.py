"""Ctrl-C (SIGINT) during `flywheel run`: stop within seconds and mark the run canceled, not failed.

While a run executes in process, Dagster replaces the SIGINT handler: the signal raises an interrupt inside the
running asset (or, between steps, at the start of the next one), the step fails, every later step is left unrun,
the resources are torn down, and the run ends. Dagster records the run as CANCELED only when it is already
CANCELING at that point (which is how its own cancellation works: mark the run canceling, then interrupt the
process); otherwise it records a FAILURE ("interrupted unexpectedly, no user initiated termination request").

`cancel_on_interrupt` supplies that request for a terminal. Python writes the number of every signal it handles to
a wakeup file descriptor the moment the signal arrives, before any handler runs; the warehouse resource's teardown
(`Warehouse.teardown_after_execution`, the last of our code to run before Dagster decides how the run ended) calls
`cancel_if_interrupted`, which reads that descriptor and, if SIGINT arrived, marks the run CANCELING. Both happen in
the main thread, in that order, so the outcome does not depend on timing.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dagster as dg


@dataclass
class Interruption:
    """Whether Ctrl-C arrived while the run executed; `_signals` is read by `cancel_if_interrupted`."""

    received: bool = False
    _signals: socket.socket | None = field(default=None, repr=False)

    def take_signals(self) -> bool:
        """Read the signal numbers written since the last call; True if SIGINT is among them."""
        if self._signals is None:
            return self.received
        try:
            while data := self._signals.recv(256):
                self.received = self.received or signal.SIGINT in data
        except BlockingIOError:
            pass
        return self.received


_active: list[Interruption] = []


@contextmanager
def cancel_on_interrupt() -> Iterator[Interruption]:
    """Within this block, a run interrupted by Ctrl-C is marked canceling by `cancel_if_interrupted`."""
    if threading.current_thread() is not threading.main_thread():
        yield Interruption()  # only the main thread receives signals
        return
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    interruption = Interruption(_signals=reader)
    _active.append(interruption)
    try:
        yield interruption
    finally:
        interruption.take_signals()
        _active.remove(interruption)
        signal.set_wakeup_fd(previous)
        interruption._signals = None
        writer.close()
        reader.close()


def interrupted() -> bool:
    """Whether Ctrl-C arrived during the current run.

    DuckDB checks for signals while a query runs and, when one arrived, turns the interrupt Dagster's handler raised
    into its own error ("Query interrupted"); the step would then fail like any other and the run carry on with the
    next ones. Code that sees an error can ask this to re-raise it as the interrupt it was.
    """
    return bool(_active) and _active[-1].take_signals()


def cancel_if_interrupted(instance: dg.DagsterInstance, run_id: str) -> None:
    """If Ctrl-C arrived during the run, mark it CANCELING so Dagster ends it as CANCELED rather than FAILURE."""
    if not interrupted():
        return
    run = instance.get_run_by_id(run_id)
    if run is not None and not run.is_finished and run.status != dg.DagsterRunStatus.CANCELING:
        instance.report_run_canceling(run, message="Stopping: Ctrl-C (SIGINT) received.")
