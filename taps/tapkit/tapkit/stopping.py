"""SIGTERM and SIGINT: stop within seconds, with a last STATE that covers only what was emitted.

Orchestrators (Airflow, Dagster, Kubernetes, CI runners) stop a run with SIGTERM, a person with
Ctrl-C (SIGINT). singer-sdk's own handler writes the state and exits 0, so a stopped run looks like a
success, and the kit's buffered RECORD lines could follow that STATE.

The kit's handler raises `Stopped` in the main thread wherever it is (a request, a retry wait, a page
being parsed), except while the writer is writing lines out: then it raises as soon as that write is
done, so no line is ever cut in half. `VendorTap.sync_all` then writes out the buffered records and,
after them, one last STATE: the SDK advances a bookmark only after the record it covers was written,
and the taps save their own positions (scan cursors, job tables) only after the page or export they
cover was emitted, so that state never claims more than the records before it. The console scripts
end with one line (`tap-x: stopped by SIGTERM; state covers data emitted so far`) and exit 128 + the
signal number: 143 for SIGTERM, 130 for SIGINT, as a shell reports a process the signal ended.
"""

from __future__ import annotations

import signal
import threading
import typing as t

SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT") if hasattr(signal, name))


class Stopped(BaseException):
    """The run was stopped by a signal. A BaseException (as KeyboardInterrupt, but not one, which click
    would turn into "Aborted!" and exit 1): no `except Exception` in the SDK or a tap swallows it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(self.signal_name)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def line(self, program: str) -> str:
        return f"{program}: stopped by {self.signal_name}; state covers data emitted so far"


class StopGuard:
    """The process-wide handler state: which signal came, and whether the writer is mid-write."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.raised = False
        self.writing = 0  # > 0 while lines are being written out: raising there would cut a line
        self.awaiting: deferred | None = None  # a deferred request whose answer has not begun

    def handle(self, signum: int, frame: t.Any) -> None:
        if self.signum is not None:
            return  # already stopping: let the last flush and STATE finish
        self.signum = signum
        if not self.writing:
            self.raise_stop()
        if self.awaiting is not None and not self.awaiting.begun:
            self.awaiting.arm()

    def raise_stop(self) -> t.NoReturn:
        self.raised = True
        raise Stopped(self.signum or signal.SIGTERM)

    def after_write(self) -> None:
        """Called when a write is done: a signal that came during it takes effect now."""
        if self.signum is not None and not self.raised and not self.writing:
            self.raise_stop()

    def reset(self) -> None:
        self.signum, self.raised, self.writing, self.awaiting = None, False, 0, None


GUARD = StopGuard()


def install() -> None:
    """Put the kit's handler on SIGTERM and SIGINT (signals can only be handled in the main thread)."""
    if threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            signal.signal(signum, GUARD.handle)


_MAIN_THREAD = threading.main_thread().ident


class writing:
    """`with stopping.writing():` around writing lines out: a signal waits until the lines are whole.

    Only the main thread counts: signals are handled there, and a write by another thread (a log line
    from a prefetch worker) is not cut by an exception raised in the main thread."""

    __slots__ = ("main",)

    def __enter__(self) -> None:
        self.main = threading.get_ident() == _MAIN_THREAD
        if self.main:
            GUARD.writing += 1

    def __exit__(self, *exc: object) -> None:
        if self.main:
            GUARD.writing -= 1
            if exc[0] is None:
                GUARD.after_write()


class deferred:
    """`with stopping.deferred() as section:` around a request whose answer cannot be asked for again: a
    download the vendor deletes once it has served it. A signal that comes inside the block waits until the
    block is done (the saved export is then emitted on resume), unless the answer has not begun
    (`section.begin()`, called when status and headers are in) within `ANSWER_GRACE` seconds of the
    signal: a hung connection still stops the run within seconds."""

    __slots__ = ("armed", "begun", "section")
    ANSWER_GRACE = 3.0

    def __init__(self) -> None:
        self.section = writing()
        self.begun = False
        self.armed = False

    def begin(self) -> None:
        self.begun = True

    def __enter__(self) -> deferred:
        self.section.__enter__()
        if self.section.main:
            GUARD.awaiting = self
        return self

    def __exit__(self, *exc: object) -> None:
        if GUARD.awaiting is self:
            GUARD.awaiting = None
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
        self.section.__exit__(*exc)

    def arm(self) -> None:
        """A signal came before the answer began: give the answer `ANSWER_GRACE` seconds to begin."""
        self.armed = True
        signal.signal(signal.SIGALRM, self._grace_over)
        signal.setitimer(signal.ITIMER_REAL, self.ANSWER_GRACE)

    def _grace_over(self, signum: int, frame: t.Any) -> None:
        if not self.begun and GUARD.signum is not None and not GUARD.raised:
            GUARD.raise_stop()
