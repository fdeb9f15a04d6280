"""The jupyter_client kernel manager of sandboxed kernels (see :mod:`toipkit.grading.isolation`).

The kernel runs in a bubblewrap sandbox with no network of the grader's, so papermill talks to
it over Unix sockets (ZeroMQ ``ipc`` transport) in the submission's folder, which both sides
see at the same path. The kernel's stdout/stderr go to a :class:`~toipkit.grading.isolation.
TailPipe` (no descriptor of the grader's is inherited), its pid (bwrap's) is written to a file
for the grader, and a :class:`~toipkit.grading.isolation.MemoryWatchdog` caps the memory of
the whole sandbox.
"""

from __future__ import annotations

import subprocess
from typing import Any, ClassVar

from jupyter_client.manager import AsyncKernelManager

from toipkit.grading.isolation import MemoryWatchdog, TailPipe


class SandboxedKernelManager(AsyncKernelManager):
    """One sandboxed kernel per run: the worker sets the class attributes before papermill."""

    ipc_prefix: ClassVar[str] = ""
    pidfile: ClassVar[str] = ""
    memory_mb: ClassVar[int] = 0
    output: ClassVar[TailPipe | None] = None
    watchdog: ClassVar[MemoryWatchdog | None] = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transport = "ipc"
        if type(self).ipc_prefix:
            self.ip = type(self).ipc_prefix

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        cls = type(self)
        if cls.output is not None:
            kw["stdout"] = kw["stderr"] = cls.output.write_fd
        kw["stdin"] = subprocess.DEVNULL
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if cls.output is not None:
            cls.output.close_writer()
        assert self.provisioner is not None
        pid = getattr(self.provisioner, "pid", None)
        if pid and cls.pidfile:
            with open(cls.pidfile, "w") as handle:
                handle.write(str(pid))
        if pid and cls.memory_mb and cls.watchdog is None:
            cls.watchdog = MemoryWatchdog(int(pid), cls.memory_mb)
