"""Worker slots: one warm worker server per slot, submissions handed to free slots in threads."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from toipkit.errors import GradingError
from toipkit.grading import isolation

T = TypeVar("T")
R = TypeVar("R")


def package_parent() -> str:
    """The worker must import toipkit even when it is not installed (run from a checkout)."""
    return str(Path(__file__).resolve().parents[2])


class WorkerServer:
    """One ``python -m toipkit.grading.worker --serve`` per slot: forks a process per submission.

    The server is started lazily and restarted if it dies. ``run`` returns True when the
    whole-notebook timeout fired (the submission's session was then killed).
    """

    def __init__(self, passthrough: tuple[str, ...] = ()) -> None:
        self.passthrough = passthrough
        self.proc: subprocess.Popen | None = None
        self._buffer = b""
        self.current: int | None = None  # the submission process running now

    def _start(self) -> None:
        home = Path(tempfile.gettempdir())
        env = isolation.child_environment(home, passthrough=self.passthrough)
        env["PYTHONPATH"] = package_parent()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "toipkit.grading.worker", "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd="/", start_new_session=True,
        )
        self._buffer = b""

    def _readline(self, deadline: float | None) -> str | None:
        import select

        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                raise EOFError("grading worker server exited")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def run(self, spec_path: Path, timeout: float) -> bool:
        for attempt in (1, 2):
            if self.proc is None or self.proc.poll() is not None:
                self._start()
            try:
                assert self.proc is not None and self.proc.stdin is not None
                self.proc.stdin.write(f"{spec_path}\n".encode())
                self.proc.stdin.flush()
                started = self._readline(time.monotonic() + 120)
                break
            except (BrokenPipeError, EOFError):
                self.close()
                if attempt == 2:
                    raise
        if not started or not started.startswith("started "):
            self.close()
            raise GradingError("grading worker did not start the submission")
        pid = int(started.split()[1])
        self.current = pid
        try:
            done = self._readline(time.monotonic() + timeout)
        except EOFError:
            self.close()
            return False
        if done is not None:
            return False
        isolation.kill_group(pid)  # the submission's process leads its own session
        try:
            self._readline(time.monotonic() + 30)
        except EOFError:
            self.close()
        return True

    def abort(self) -> None:
        """Stop at once (Ctrl-C): the running submission's session, then the server."""
        if self.current:
            isolation.kill_group(self.current)
        if self.proc is not None:
            isolation.kill_group(self.proc.pid)

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:
            isolation.kill_group(self.proc.pid)
            self.proc.wait()
        self.proc = None



@dataclass
class Slot:
    """What one concurrent grading needs: its own worker server and, when the grader runs as
    root, its own uid (see :class:`~toipkit.grading.isolation.UidLease`)."""

    server: WorkerServer
    uid: int | None = None


def run_all(items: Sequence[T], task: Callable[[T, Slot], R], slots: list[Slot],
            on_done: Callable[[T, Future[R]], None],
            on_interrupt: Callable[[], None] = lambda: None) -> None:
    """Run ``task(item, slot)`` for every item, at most one item per slot at a time, and call
    ``on_done(item, future)`` in this thread as each finishes (in completion order). On Ctrl-C
    the running submissions and servers are stopped, then ``on_interrupt`` runs."""
    free: queue.Queue[Slot] = queue.Queue()
    for slot in slots:
        free.put(slot)

    def run(item: T) -> R:
        slot = free.get()
        try:
            return task(item, slot)
        finally:
            free.put(slot)

    try:
        with ThreadPoolExecutor(max_workers=max(1, len(slots))) as pool:
            futures = {pool.submit(run, item): item for item in items}
            try:
                for future in as_completed(futures):
                    on_done(futures[future], future)
            except KeyboardInterrupt:
                pool.shutdown(wait=False, cancel_futures=True)
                for slot in slots:
                    slot.server.abort()
                on_interrupt()
                raise
    finally:
        for slot in slots:
            slot.server.close()
