"""Kernels forked from a warm process instead of started from scratch.

Starting an IPython kernel costs about 0.3 s of CPU (interpreter, imports, set-up) before the
first cell runs; a lab that imports pandas pays more. The grading worker server has those
modules imported once; each submission's process forks its kernel from that state *before*
papermill starts (no threads, no event loop yet), so the kernel is still a fresh process that
never ran student code, in the submission's namespaces, with its own session.

The forked process waits on a pipe for the connection file written by jupyter_client, then
(as root) hands the file to the sandbox uid, drops privileges, applies the limits and starts
``IPKernelApp`` exactly like ``python -m ipykernel_launcher -f FILE`` would.
:class:`PreforkedKernelManager` is the jupyter_client manager that, instead of spawning a
process, sends the connection file to that waiting process and tracks it with a Popen-like
object (it is the manager's own child, so poll/wait/signals work as usual).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import traceback
from typing import Any

from jupyter_client.manager import AsyncKernelManager

# Imported by the worker server before it forks: what every kernel would import anyway, plus
# the libraries most labs use (skipped when missing). Not matplotlib: it reads its config
# folder at import time, which is per submission.
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython",
           "toipkit.checks", "numpy", "pandas")


def preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # an optional library missing or broken: the kernel imports it later
            pass


class ForkedProcess:
    """The subset of ``subprocess.Popen`` jupyter_client's provisioner uses, for a forked pid."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                done, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1
            else:
                if done:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.01)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def prefork(workdir: str, uid: int | None, memory_mb: int | None,
            pidfile: str | None = None) -> tuple[int, int]:
    """Fork the future kernel; returns (pid, write end of its start pipe)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the kernel process (coverage does not follow forks)
        code = 0
        try:
            os.close(write_end)
            os.setsid()  # its own process group: interrupts and kills reach its children
            chunks = []
            while chunk := os.read(read_end, 4096):
                chunks.append(chunk)
            os.close(read_end)
            message = b"".join(chunks).decode()
            connection_file, *extra_arguments = message.split("\0") if message else [""]
            if not connection_file:
                os._exit(0)  # the run was abandoned before the kernel was needed
            from toipkit.grading import isolation

            if uid is not None:
                os.chown(connection_file, uid, uid)
            os.chdir(workdir)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            if uid is not None:
                isolation.drop_privileges(uid, uid)
            isolation.apply_limits(memory_mb,
                                 isolation.MAX_PROCESSES if uid is not None else None)
            os.environ["JPY_PARENT_PID"] = str(os.getppid())  # exit if the worker dies
            if "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None:
                del sys.modules["rfc3987_syntax"]  # the worker's import shortcut, not the kernel's
            if not any(a.startswith("--HistoryManager.hist_file") for a in extra_arguments):
                extra_arguments.append("--HistoryManager.hist_file=:memory:")  # as nbclient does
            sys.argv = [sys.executable, "-f", connection_file, *extra_arguments]
            from ipykernel.kernelapp import IPKernelApp

            IPKernelApp.launch_instance()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(read_end)
    if pidfile:
        with open(pidfile, "w") as handle:
            handle.write(str(pid))
    return pid, write_end


class PreforkedKernelManager(AsyncKernelManager):
    """Starts the kernel by waking the process :func:`prefork` made (one kernel per manager)."""

    preforked: tuple[int, int] | None = None  # set by the worker before papermill runs

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        waiting = type(self).preforked
        if waiting is None:
            raise RuntimeError("no pre-forked kernel left (a kernel restart is not supported)")
        type(self).preforked = None
        pid, write_end = waiting
        # What nbclient adds after "-f {connection_file}" (e.g. an in-memory history).
        extra = kernel_cmd[kernel_cmd.index("-f") + 2:] if "-f" in kernel_cmd else []
        os.write(write_end, "\0".join([self.connection_file, *extra]).encode())
        os.close(write_end)
        provisioner: Any = self.provisioner  # the local provisioner (its Popen-like fields)
        assert provisioner is not None
        provisioner.process = ForkedProcess(pid)
        provisioner.pid = pid
        provisioner.pgid = pid
        provisioner.cwd = kw.get("cwd")
        self._reconcile_connection_info(provisioner.connection_info)


def abandon() -> None:
    """Let an unused pre-forked process exit (the run failed before starting the kernel)."""
    waiting = PreforkedKernelManager.preforked
    PreforkedKernelManager.preforked = None
    if waiting is not None:
        pid, write_end = waiting
        os.close(write_end)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
