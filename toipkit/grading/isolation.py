"""Operating-system fences around a student's kernel.

Every graded kernel runs inside a **bubblewrap** sandbox (``bwrap``, Debian package
``bubblewrap``), the same way whether the grader runs as root or as an ordinary user (bwrap
only needs unprivileged user namespaces):

* **a file-system view built from nothing**: a fresh root holding only the operating system's
  programs and libraries (``/usr`` and its links, a few ``/etc`` files), the Python installation
  and virtual environment, the toipkit package and the course data, all read-only, plus the
  submission's own folder (a copy, writable). The instructor's home, the repository checkout
  (solutions, ``.git``, tests), other submissions, the output folder and every other path of
  the host do not exist in there. ``/tmp``, ``/var/tmp``, ``/run`` (``/run/lock``),
  ``/dev/shm`` are fresh and private to the run; ``/proc`` shows the run's own processes only;
* **a uid without privileges**: as an ordinary user, uid 65534 of a user namespace of its own,
  without capabilities; as root, a uid of its own per worker slot (:class:`UidLease`, from
  61000, no account, reserved with a lock file so concurrent runs never share one), taken
  inside the sandbox before the kernel starts; ``no_new_privs`` in both cases;
* **a PID namespace** (``--unshare-pid``) and ``--die-with-parent``: when the kernel (or the
  grader) goes, every process the submission started goes with it, ``setsid`` and double
  forks included;
* **no network** (``--unshare-net``: only a loopback of its own, where e.g. a XiVO sandbox
  started by the notebook listens), unless the instructor allows it (``network: true``);
* **no inherited descriptors**: the kernel's stdout/stderr are a pipe the grader reads with a
  size limit; stdin is ``/dev/null``;
* **limits** set inside the sandbox before the kernel starts (:data:`LIMITS_CODE`): address
  space per process, no core files, 1 GB per file, and :data:`MAX_PROCESSES` tasks — counted
  in the sandbox's own user namespace (or for the slot's own uid as root), so it caps the
  submission's processes, not the instructor's;
* **a memory cap on the whole submission** (:class:`MemoryWatchdog`): the resident memory of
  every process of the sandbox is summed several times a second, and the sandbox is killed
  past the limit (the documented fallback for hosts where cgroup v2 memory control is not
  delegated to the grader, which is the usual case for an ordinary user).

Plus, always: the **environment whitelist** (:data:`ENV_WHITELIST` and the names the
instructor lists; ``HOME``, ``TMPDIR``... point into the submission's folder).

If bwrap is missing or the host forbids user namespaces, :func:`sandbox_problem` says why and
the grader refuses to run untrusted code unless told ``--unsafe-no-isolation``.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

from toipkit.procfs import descendants, memory_kb

ENV_WHITELIST = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "LANGUAGE", "TZ", "TERM",
    "PYTHONHASHSEED", "PYTHONIOENCODING", "TOIPKIT_DATA", "TOIPKIT_LANG",
    "VIRTUAL_ENV", "SYSTEMROOT",
)
MAX_PROCESSES = 64  # tasks (processes and threads) of one submission
SANDBOX_UID = 65534  # the kernel's uid inside its user namespace (grader not root)
SANDBOX_UID_BASE = 61000  # first uid tried for the per-slot uids (grader running as root)
# Files of /etc that programs need (dynamic linker, time zone, certificates, Debian's
# alternatives links). Nothing else of /etc (accounts, host configuration) is visible.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone",
             "alternatives", "ssl", "ca-certificates", "fonts", "mime.types")
ETC_NETWORK_FILES = ("resolv.conf", "hosts", "nsswitch.conf", "gai.conf", "host.conf")
ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")

REFUSAL = (
    "Isolation impossible : {reason}. Les copies des étudiants ne seront pas exécutées sans "
    "isolation ; installez bubblewrap (paquet Debian « bubblewrap ») et autorisez les espaces de "
    "noms utilisateur, ou relancez avec --unsafe-no-isolation si vous faites confiance à ces "
    "copies.\n"
    "Isolation unavailable: {reason}. Student submissions are not run without isolation; "
    "install bubblewrap (Debian package 'bubblewrap') and allow user namespaces, or pass "
    "--unsafe-no-isolation if you trust these submissions."
)

# Run inside the sandbox, before the kernel: (as root) hand the connection file to the slot's
# uid and become that uid, then limits of this process (inherited by all it starts), no new
# privileges, and exec the kernel. ``python -S -c LIMITS_CODE MEMORY_MB MAX_PROCESSES UID CMD...``
LIMITS_CODE = (
    "import ctypes, os, resource, sys\n"
    "memory, tasks, uid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])\n"
    "command = sys.argv[4:]\n"
    "if uid and os.getuid() == 0:\n"
    "    if '-f' in command:\n"
    "        os.chown(command[command.index('-f') + 1], uid, uid)\n"
    "    os.setgroups([])\n"
    "    os.setgid(uid)\n"
    "    os.setuid(uid)\n"
    "ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)\n"  # PR_SET_NO_NEW_PRIVS
    "if memory:\n"
    "    resource.setrlimit(resource.RLIMIT_AS, (memory << 20, memory << 20))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 30, 1 << 30))\n"
    "if tasks:\n"
    "    resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))\n"
    "os.closerange(3, 65536)\n"
    "os.execv(command[0], command)\n"
)


def can_drop_privileges() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


_PROBLEM: str | None = None


def sandbox_problem() -> str:
    """Why kernels cannot be sandboxed here ("" when they can). Probed once: bwrap builds a
    sandbox with every namespace the grader uses and runs ``true`` in it."""
    global _PROBLEM
    if _PROBLEM is None:
        bwrap = bwrap_path()
        if not sys.platform.startswith("linux"):
            _PROBLEM = "bubblewrap needs Linux"
        elif bwrap is None:
            _PROBLEM = "bwrap (bubblewrap) is not installed"
        else:
            argv = [bwrap, *_namespace_options(network=False), *_system_view(),
                    "--", "/bin/true" if os.path.exists("/bin/true") else "/usr/bin/true"]
            done = subprocess.run(argv, check=False, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, timeout=30)
            _PROBLEM = "" if done.returncode == 0 else (
                "this host forbids unprivileged user namespaces (bwrap: "
                f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode})")
    return _PROBLEM


def _namespace_options(network: bool) -> list[str]:
    # As root, no user namespace: the kernel becomes a uid of its own inside (LIMITS_CODE),
    # so that its processes count against RLIMIT_NPROC (root's never do) and it holds no
    # capability. As an ordinary user, a user namespace where it is SANDBOX_UID.
    options = [] if can_drop_privileges() else [
        "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
        "--cap-drop", "ALL"]
    options += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
               "--hostname", "grading", "--die-with-parent", "--new-session",
               # The kernel's parent is the sandbox's init (pid 1): ipykernel would take the
               # grader's pid for a dead parent. --die-with-parent does that job.
               "--unsetenv", "JPY_PARENT_PID"]
    if not network:
        options.append("--unshare-net")
    return options


def _system_view(network: bool = False) -> list[str]:
    """Programs and libraries of the host, read-only; fresh /proc, /dev, /tmp, /run."""
    view = ["--ro-bind", "/usr", "/usr"]
    for name in ROOT_LINKS:
        path = Path("/") / name
        if path.is_symlink():
            view += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            view += ["--ro-bind", str(path), str(path)]
    for name in ETC_FILES + (ETC_NETWORK_FILES if network else ()):
        view += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    view += ["--proc", "/proc", "--dev", "/dev"]
    for scratch in ("/dev/shm", "/tmp", "/var/tmp", "/run"):
        view += ["--perms", "1777", "--tmpfs", scratch]
    view += ["--perms", "1777", "--dir", "/run/lock"]
    return view


def sandbox_argv(*, read_only: Iterable[str], writable: Iterable[str], workdir: str,
                 network: bool, memory_mb: int | None, max_processes: int | None = MAX_PROCESSES,
                 uid: int | None = None, python: str | None = None) -> list[str]:
    """The command prefix that runs a command in a fresh sandbox (see the module docstring):
    ``read_only`` and ``writable`` paths are bound at the same place; limits are applied inside;
    ``uid`` (grader running as root): the uid the command runs as. Append the command."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise OSError("bwrap is not installed")
    argv = [bwrap, *_namespace_options(network), *_system_view(network)]
    ro = sorted({os.path.realpath(p) for p in read_only if os.path.exists(p)})
    rw = sorted({os.path.realpath(p) for p in writable})
    # The folders on the way to each bound path exist in the sandbox, empty and traversable
    # (bwrap would copy nothing of them, but may make them 0700, e.g. as root).
    parents = {str(parent) for path in ro + rw for parent in Path(path).parents
               if len(parent.parts) > 1 and parent.parts[1] not in {"usr", "proc", "dev"}}
    for parent in sorted(parents, key=lambda p: p.count("/")):
        argv += ["--perms", "0755", "--dir", parent]
    # Parents before children: a folder bound later inside another one stays visible.
    for path in ro:
        argv += ["--ro-bind", path, path]
    for path in rw:
        argv += ["--bind", path, path]
    argv += ["--chdir", workdir, "--"]
    argv += [python or sys.executable, "-S", "-c", LIMITS_CODE, str(memory_mb or 0),
             str(max_processes or 0), str(uid or 0)]
    return argv


def view_paths() -> list[str]:
    """What a kernel needs to read: Python, the virtual environment and its packages, the
    toipkit package, the course data and student notebooks (not the rest of the checkout)."""
    from toipkit.paths import PACKAGE_DIR, data_dir, repo_root

    keep = {PACKAGE_DIR, data_dir(), Path(sys.prefix), Path(sys.base_prefix),
            Path(sys.exec_prefix), Path(os.path.realpath(sys.executable)).parent}
    # Installed packages only: a checkout on sys.path (pytest, python -m) must stay hidden.
    keep.update(Path(p) for p in sys.path
                if p and os.path.isdir(p) and ("site-packages" in p or "dist-packages" in p))
    if (repo_root() / "labs").is_dir():
        keep.add(repo_root() / "labs")
    return sorted({os.path.realpath(p) for p in keep if os.path.exists(p)})


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
            self.uid: int = uid
            self._fd: int | None = fd
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


def apply_limits(memory_mb: int | None, max_processes: int | None = None,
                 max_file_mb: int | None = 1024) -> None:
    """Resource limits of the current process (inherited by its children), for kernels run
    without the sandbox (``--unsafe-no-isolation``).

    ``max_processes`` counts every process of the real uid: only pass it for a uid of its own.
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
# The whole submission: its process tree, its memory


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of ``pid`` and all its descendants, summed: cheap, but pages
    shared after a fork are counted once per process (an upper bound)."""
    total = 0
    for process in descendants(pid):
        try:
            with open(f"/proc/{process}/statm") as handle:
                total += int(handle.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


def tree_pss(pid: int) -> int:
    """Proportional resident memory (bytes) of ``pid`` and its descendants: shared pages are
    split between the processes that share them, so the sum is what the tree really uses."""
    return sum(memory_kb(process)[0] for process in descendants(pid)) * 1024


class MemoryWatchdog:
    """Kill a process tree whose resident memory, summed, passes ``limit_mb`` (proportional set
    size: the pages forked processes share count once).

    Polls every ``interval`` seconds in a daemon thread; ``fired`` tells whether it killed,
    ``peak`` the largest sum seen (bytes).
    """

    def __init__(self, pid: int, limit_mb: int, interval: float = 0.2) -> None:
        self.pid, self.limit = pid, int(limit_mb) << 20
        self.interval = interval
        self.fired = False
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="memory-watchdog", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            if not os.path.exists(f"/proc/{self.pid}"):
                return
            used = tree_rss(self.pid)
            if used > self.limit:  # maybe forked copies sharing their pages: count exactly
                used = tree_pss(self.pid)
            self.peak = max(self.peak, used)
            if used > self.limit:
                self.fired = True
                for process in reversed(descendants(self.pid)):
                    try:
                        os.kill(process, signal.SIGKILL)
                    except OSError:
                        pass
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


class TailPipe:
    """A pipe whose reader keeps only the last ``limit`` bytes written to it (a kernel's
    stdout/stderr: a flood costs the grader CPU time, never memory or disk)."""

    def __init__(self, limit: int = 64 * 1024) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_inheritable(self.write_fd, True)
        self.limit = limit
        self.total = 0
        self._tail = b""
        self._thread = threading.Thread(target=self._drain, name="tail-pipe", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while chunk := os.read(self.read_fd, 65536):
            self.total += len(chunk)
            self._tail = (self._tail + chunk)[-self.limit:]
        os.close(self.read_fd)

    def close_writer(self) -> None:
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def text(self, wait: float = 2.0) -> str:
        self.close_writer()
        self._thread.join(timeout=wait)
        return self._tail.decode("utf-8", errors="replace")


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
