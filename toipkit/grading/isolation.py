"""Operating-system fences around a student's kernel.

What is applied (Linux; the parts that need root are skipped otherwise):

* **Environment whitelist**: the worker and kernel get only :data:`ENV_WHITELIST` (plus names the
  instructor lists), with ``HOME``/``TOIPKIT_HOME``/``TMPDIR`` pointing into the submission's own
  folder. Tokens, passwords and cloud credentials of the grader's shell are not passed down.
* **Resource limits** on the kernel process (set just before it starts, inherited by anything it
  spawns): address space (``RLIMIT_AS``), no core files, a cap on file size and on processes.
* **Process cleanup**: the whole-notebook timeout kills the submission's session and the
  kernel's (the kernel has its own); as root, every process of the submission's uid.
* **As root only**: the kernel runs as an unprivileged uid of its own (:class:`UidLease`, no
  login account, no groups), its folder is owned by that uid with mode 0700 (so concurrent
  submissions cannot read each other), and the submission's process enters a private mount
  namespace (:func:`hide_paths`) in which the instructor's paths (solutions, the repository
  checkout, submissions, output folder, ``grading.yaml``, hidden files, the grader's home) are
  covered by empty read-only tmpfs mounts, and ``/tmp``, ``/var/tmp``, ``/dev/shm`` by fresh
  private ones; the paths the kernel needs (Python, the toipkit package, ``data/``, its own
  folder) are bound back. Unless the instructor allows the network, it also gets a network
  namespace with loopback only (:func:`loopback_only`).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import time
from pathlib import Path

ENV_WHITELIST = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "LANGUAGE", "TZ", "TERM",
    "PYTHONHASHSEED", "PYTHONIOENCODING", "TOIPKIT_DATA",
    "VIRTUAL_ENV", "SYSTEMROOT",
)
# First uid tried for the per-slot sandbox users (no account needed for setuid).
SANDBOX_UID_BASE = 61000

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_REMOUNT = 32


def can_drop_privileges() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0


_NAMESPACES: bool | None = None


def namespaces_available() -> bool:
    """Whether this machine lets root create mount and network namespaces (a container without
    CAP_SYS_ADMIN does not). Probed once, in a throw-away process."""
    global _NAMESPACES
    if _NAMESPACES is None:
        if not can_drop_privileges():
            _NAMESPACES = False
        else:
            import subprocess

            probe = ("import ctypes, ctypes.util, sys\n"
                     "libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')\n"
                     f"sys.exit(0 if libc.unshare({CLONE_NEWNS | CLONE_NEWNET}) == 0 else 1)")
            done = subprocess.run([sys.executable, "-S", "-c", probe], check=False,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _NAMESPACES = done.returncode == 0
    return _NAMESPACES


class UidLease:
    """An unused uid reserved for one worker slot for the whole run.

    The reservation is an exclusive ``flock`` on a root-only lock file per uid, so concurrent
    grading runs on the same machine never share a uid (killing "every process of the uid"
    after a submission must not reach another run's kernels). Released by :meth:`release` or
    when the process exits.
    """

    def __init__(self, first: int = SANDBOX_UID_BASE, span: int = 4000) -> None:
        import fcntl
        import pwd

        folder = Path(os.environ.get("TOIPKIT_GRADING_LOCKS", "/run/toipkit-grading"))
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            import tempfile

            folder = Path(tempfile.gettempdir()) / "toipkit-grading-locks"
            folder.mkdir(mode=0o700, exist_ok=True)
        for uid in range(first, first + span):
            try:
                pwd.getpwuid(uid)
                continue  # a real account: not ours to use
            except KeyError:
                pass
            fd = os.open(folder / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            return
        raise OSError("no free sandbox uid")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def child_environment(home: Path, extra: dict[str, str] | None = None,
                      passthrough: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment of a worker: whitelisted names only, homes inside the submission."""
    env = {k: v for k, v in os.environ.items() if k in ENV_WHITELIST or k in passthrough}
    env.setdefault("PATH", "/usr/bin:/bin")
    env.setdefault("LANG", "C.UTF-8")
    env.update({
        "HOME": str(home),
        "TOIPKIT_HOME": str(home / "toipkit"),
        "TMPDIR": str(home / "tmp"),
        "IPYTHONDIR": str(home / "ipython"),
        "MPLCONFIGDIR": str(home / "matplotlib"),
        "PYTHONHASHSEED": "0",  # same set/dict order on every run: identical grades
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "MALLOC_ARENA_MAX": "2",  # fewer malloc arenas: less address space per thread
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
    })
    env.update(extra or {})
    return env


MAX_PROCESSES = 64  # per sandbox uid


def apply_limits(memory_mb: int | None, max_processes: int | None = None,
                 max_file_mb: int | None = 1024) -> None:
    """Resource limits of the current process (inherited by its children).

    ``max_processes`` counts every process of the real uid: only pass it once running as a
    sandbox uid (for the instructor's own uid it would count their whole session).
    """
    import resource

    if memory_mb:
        size = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if max_file_mb:
        size = int(max_file_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    if max_processes and os.geteuid() != 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


def chown_tree(path: Path, uid: int, gid: int) -> None:
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


# ----------------------------------------------------------------------------------------------
# Mount namespace (root on Linux)


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _mount(libc, source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    def enc(s):
        return (s.encode() if s is not None else None)
    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def hide_paths(hidden: list[str], keep: list[str], scratch: list[str] = ()) -> list[str]:
    """Enter a private mount namespace and cover ``hidden`` paths, keeping ``keep`` visible.

    Folders are covered by an empty read-only tmpfs, files by ``/dev/null``; ``scratch`` folders
    (``/tmp``, ``/dev/shm``...) get a fresh writable tmpfs instead, so nothing written there is
    seen by another submission. Kept paths below a covered folder are bound back (through
    ``O_PATH`` descriptors opened before covering). Returns the paths covered. Raises OSError if
    namespaces are refused.
    """
    libc = _libc()
    if libc.unshare(CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNS): {os.strerror(err)}")
    # Our mounts must not propagate back to the host.
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    keep_paths = sorted({Path(os.path.realpath(k)) for k in keep if os.path.exists(k)})
    scratch_set = {os.path.realpath(p) for p in scratch if os.path.isdir(p)}
    targets = {os.path.realpath(h) for h in hidden if os.path.exists(h)} | scratch_set
    covered: list[str] = []
    for item in sorted(targets, key=len):
        target = Path(item)
        if any(_under(target, Path(done)) for done in covered) and not any(
                _under(target, k) for k in keep_paths):
            continue  # already covered by a parent (and not inside a path bound back there)
        if any(k == target for k in keep_paths):
            continue  # never hide something the kernel needs
        kept = [k for k in keep_paths if _under(k, target) and k != target]
        # Keep only the outermost kept paths: inner ones come back with them.
        kept = [k for k in kept if not any(_under(k, o) and o != k for o in kept)]
        # Open (and look at) the kept paths now: once covered they cannot be reached by name.
        handles = [(k, k.is_dir(), os.open(k, os.O_PATH | (os.O_DIRECTORY if k.is_dir() else 0)))
                   for k in kept]
        try:
            if target.is_dir():
                writable = item in scratch_set
                options = "size=512m,mode=1777" if writable else "size=64k,mode=0755"
                _mount(libc, "tmpfs", str(target), "tmpfs", MS_NOSUID | MS_NODEV, options)
                for k, is_dir, fd in handles:
                    dest = target / k.relative_to(target)
                    if is_dir:
                        dest.mkdir(parents=True, exist_ok=True)
                    else:
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        dest.touch()
                    _mount(libc, f"/proc/self/fd/{fd}", str(dest), None, MS_BIND | MS_REC)
                if not writable:
                    _mount(libc, None, str(target), None,
                           MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
            else:
                _mount(libc, "/dev/null", str(target), None, MS_BIND)
        finally:
            for _, _, fd in handles:
                os.close(fd)
        covered.append(str(target))
    return covered


def loopback_only() -> None:
    """Enter a new network namespace whose only interface is a working loopback (root only).

    The kernel keeps 127.0.0.1 (papermill talks to it there, the XiVO sandbox listens there)
    but reaches no other host, nor the loopback services of the grader or of other submissions.
    """
    import fcntl
    import socket
    import struct

    libc = _libc()
    if libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNET): {os.strerror(err)}")
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh22x", b"lo", 0)
        flags = struct.unpack("16sh22x", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sh22x", b"lo", flags | iff_up))


# ----------------------------------------------------------------------------------------------
# Cleanup


def uid_processes(uid: int) -> list[int]:
    """Pids whose owner is ``uid`` (Linux ``/proc``)."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    pids.append(int(name))
            except OSError:
                continue
    return pids


def kill_uid(uid: int, rounds: int = 200) -> int:
    """Kill every process of ``uid`` (root only), wherever they moved (setsid, double fork),
    until none is left — a fork bomb refills as it is killed. Returns the processes left."""
    if not can_drop_privileges():
        return 0
    for _ in range(rounds):
        pids = uid_processes(uid)
        if not pids:
            return 0
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
    return len(uid_processes(uid))


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
