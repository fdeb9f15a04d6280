"""Live packet capture around a block of code (a notebook cell), with a recorded fallback.

::

    with capture("udp", ports=[5060, (10000, 20000)],
                 fallback=data_path("captures", "call-101-102.pcapng")) as cap:
        ...  # place the call
    cap.live      # True when dumpcap really captured
    cap.message   # French explanation when the sample was used instead
    cap.open()    # toipkit.pcap Capture of cap.path

dumpcap (Wireshark's capture engine, package ``wireshark-common``) writes the pcapng. It needs
root or the CAP_NET_RAW/CAP_NET_ADMIN capabilities; without them (Binder) the capture falls back to
the recorded sample with a French message instead of a traceback. Whether capturing is allowed is
decided by trying: dumpcap either writes its file header (it is capturing) or exits with its
error, which is then explained.

dumpcap is stopped when the block ends, also when it raises. It gets SIGTERM if the Python
process (the Jupyter kernel) dies first (PR_SET_PDEATHSIG; note that Linux sends it when the
*thread* that started dumpcap ends, so start captures from the main thread or a long-lived one).
Packets reach dumpcap's file in batches, so it is stopped ``grace`` seconds after the block ends.
The file is written under a temporary name and renamed once dumpcap has closed it.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from toipkit.errors import ToipkitError
from toipkit.paths import state_dir
from toipkit.phone.processes import die_with_parent

DUMPCAP = "dumpcap"
START_TIMEOUT = 10.0  # seconds for dumpcap to open the interface and write its header
STOP_TIMEOUT = 5.0
DEFAULT_GRACE = 0.5  # dumpcap's reads are batched (~250 ms): let the last packets in

_running: set[LiveCapture] = set()

_SHB = 0x0A0D0D0A
_IDB = 1
_PACKET_BLOCKS = {2, 3, 6}  # obsolete Packet Block, Simple Packet Block, Enhanced Packet Block


class LiveCaptureError(ToipkitError):
    """An invalid capture filter, or no capture file to open (the live capture failed and
    there is no fallback sample)."""


def ports_filter(ports, proto: str | None = "udp") -> str:
    """Capture filter for ``ports``: ints and ``(low, high)`` ranges, e.g.
    ``[5060, (10000, 20000)]`` -> ``udp and (port 5060 or portrange 10000-20000)``
    (``proto=None``: the parenthesised port terms only)."""
    if isinstance(ports, (int, tuple)):
        ports = [ports]
    terms = []
    for p in ports:
        if isinstance(p, tuple):
            low, high = (int(x) for x in p)
            if not 0 < low <= high < 65536:
                raise ValueError(f"bad port range {p!r}")
            terms.append(f"portrange {low}-{high}")
        else:
            if not 0 < int(p) < 65536:
                raise ValueError(f"bad port {p!r}")
            terms.append(f"port {int(p)}")
    if not terms:
        raise ValueError("ports is empty")
    joined = f"({' or '.join(terms)})"
    return f"{proto} and {joined}" if proto else joined


def pcapng_blocks(path) -> tuple[int, int, bool]:
    """(interface blocks, packet blocks, complete) of a pcapng file; ``complete`` is False when
    the file ends inside a block (dumpcap still writing) or does not start with a section."""
    interfaces = packets = 0
    try:
        fh = open(path, "rb")
    except OSError:
        return 0, 0, False
    with fh:
        head = fh.read(12)
        if len(head) < 12 or struct.unpack_from("<I", head, 0)[0] != _SHB:
            return 0, 0, False
        order = "<" if head[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        size = os.fstat(fh.fileno()).st_size
        offset = 0
        while offset + 8 <= size:
            fh.seek(offset)
            block_type, length = struct.unpack(order + "II", fh.read(8))
            if length < 12 or offset + length > size:
                return interfaces, packets, False
            if block_type == _IDB:
                interfaces += 1
            elif block_type in _PACKET_BLOCKS:
                packets += 1
            offset += length
    return interfaces, packets, offset == size


def _default_path() -> Path:
    folder = state_dir() / "captures"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"capture-{stamp}.pcapng"
    n = 1
    while path.exists() or path.with_name(path.name + ".part").exists():
        n += 1
        path = folder / f"capture-{stamp}-{n}.pcapng"
    return path


def _explain(stderr: str, interface: str, returncode: int | None) -> str:
    """French reason from dumpcap's error output."""
    low = stderr.lower()
    if "permission" in low or "operation not permitted" in low:
        return (f"La capture en direct n'est pas autorisée ici (pas de droits sur l'interface "
                f"{interface})")
    if "no such device" in low or "no device named" in low:
        return f"L'interface {interface} n'existe pas sur cette machine"
    first = next((line.strip() for line in stderr.splitlines()
                  if line.strip() and not line.startswith(("Capturing on", "Running as user"))),
                 f"code de sortie {returncode}")
    return f"La capture en direct a échoué ({first})"


class LiveCapture:
    """A dumpcap capture (or its recorded fallback). Use ``capture(...)`` to build one."""

    def __init__(self, filter: str = "udp", interface: str = "lo", *, ports=None,
                 path=None, fallback=None, grace: float = DEFAULT_GRACE,
                 dumpcap: str | None = None):
        if ports is not None:
            if not filter or filter.strip() in ("udp", "tcp"):
                filter = ports_filter(ports, (filter or "udp").strip())
            else:
                filter = f"({filter}) and {ports_filter(ports, None)}"
        self.filter = filter or ""
        self.interface = interface
        self.fallback = Path(fallback) if fallback is not None else None
        self.grace = grace
        self._dumpcap = dumpcap or shutil.which(DUMPCAP) or ""
        self._target = Path(path) if path is not None else None
        self.path: Path | None = None
        self.live = False
        self.message = ""
        self.error = ""  # dumpcap's own words when it could not capture (English)
        self._process: subprocess.Popen | None = None
        self._part: Path | None = None
        self._stderr: IO[bytes] | None = None

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> LiveCapture:
        if self._process is not None:
            return self
        if not self._dumpcap:
            return self._fall_back("dumpcap (paquet wireshark-common) n'est pas installé", "")
        try:
            target = self._target or _default_path()
            target.parent.mkdir(parents=True, exist_ok=True)
            part = target.with_name(target.name + ".part")
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
        except OSError as exc:
            return self._fall_back("Impossible de créer le fichier de capture", str(exc))
        self._stderr = tempfile.TemporaryFile()
        cmd = [self._dumpcap, "-i", self.interface, "-w", str(part), "-q"]
        if self.filter:
            cmd += ["-f", self.filter]
        try:
            self._process = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                preexec_fn=die_with_parent)
        except OSError as exc:
            return self._fall_back("dumpcap n'a pas pu être lancé", str(exc))
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if pcapng_blocks(part)[0] > 0:  # header and interface written: capturing
                break
            code = self._process.poll()
            if code is not None or time.monotonic() > deadline:
                if code is None:
                    self._terminate()
                err = self._read_stderr()
                self._process = None
                with contextlib.suppress(FileNotFoundError):
                    part.unlink()
                if "invalid capture filter" in err.lower():
                    # The student's mistake: say so rather than quietly using the sample.
                    detail = err[err.lower().index("invalid capture filter"):].splitlines()[0]
                    raise LiveCaptureError(f"Le filtre de capture {self.filter!r} n'est pas "
                                           f"valide (syntaxe BPF, comme dans Wireshark). "
                                           f"dumpcap : {detail}")
                return self._fall_back(_explain(err, self.interface, code), err)
            time.sleep(0.01)
        self._part, self.path, self.live = part, target, True
        _running.add(self)
        return self

    def stop(self) -> LiveCapture:
        """Stop dumpcap (after the grace delay) and put the file at ``self.path``."""
        process = self._process
        if process is None:
            return self
        try:
            if self.grace > 0 and process.poll() is None:
                time.sleep(self.grace)
        finally:  # even when interrupted during the grace delay
            try:
                self._terminate()
            finally:
                self._process = None
                _running.discard(self)
        part, target = self._part, self.path
        assert part is not None and target is not None  # set when dumpcap started
        if pcapng_blocks(part)[0] == 0:
            err = self._read_stderr()
            return self._fall_back(_explain(err, self.interface, process.returncode), err)
        os.replace(part, target)
        self._read_stderr()
        return self

    def _terminate(self) -> None:
        process = self._process
        if process is None:
            return
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_TIMEOUT)
        process.wait()

    def _read_stderr(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace")
        self._stderr.close()
        self._stderr = None
        return text

    def _fall_back(self, reason: str, error: str) -> LiveCapture:
        self.live = False
        self.error = error.strip()
        if self.fallback is not None:
            self.path = self.fallback
            self.message = f"{reason} : on utilise l'enregistrement d'exemple {self.fallback.name}."
        else:
            self.path = None
            self.message = f"{reason}, et aucun enregistrement d'exemple n'a été prévu."
        return self

    def __enter__(self) -> LiveCapture:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- results ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def packet_count(self) -> int | None:
        """Packets in the file so far (None without a pcapng file)."""
        if self.path is None:
            return None
        source = self._part if self.running else self.path
        interfaces, packets, _ = pcapng_blocks(source)
        return packets if interfaces else None

    def open(self, **kwargs):
        """The capture as a ``toipkit.pcap.Capture`` (``read_capture(self.path)``)."""
        if self.running:
            self.stop()
        if self.path is None:
            raise LiveCaptureError(self.message or "Aucune capture : utilisez `with capture(...)`.")
        from toipkit.pcap import read_capture

        return read_capture(self.path, **kwargs)

    def __repr__(self) -> str:
        state = "live" if self.live else "fallback"
        return f"<LiveCapture {state} {self.interface} {self.filter!r} -> {self.path}>"

    def _repr_markdown_(self) -> str:
        name = self.path.name if self.path is not None else "—"
        if self.live:
            verb = "en cours" if self.running else "terminée"
            count = self.packet_count
            packets = f", {count} paquet{'s' if count != 1 else ''}" if count is not None else ""
            return (f"**Capture en direct {verb}** sur `{self.interface}` "
                    f"(filtre `{self.filter}`){packets} : fichier `{name}`.")
        return f"**Pas de capture en direct.** {self.message}"


def capture(filter: str = "udp", interface: str = "lo", *, ports=None, path=None,
            fallback=None, grace: float = DEFAULT_GRACE) -> LiveCapture:
    """Capture ``interface`` with the BPF ``filter`` while the ``with`` block runs.

    ``ports``: ints and ``(low, high)`` ranges to build the filter (``ports_filter``).
    ``path``: where to write the pcapng (default: ``<state dir>/captures/capture-<time>.pcapng``).
    ``fallback``: a recorded capture to use when live capture is not possible here.
    """
    return LiveCapture(filter, interface, ports=ports, path=path, fallback=fallback, grace=grace)


@atexit.register
def _stop_all() -> None:
    for cap in list(_running):
        with contextlib.suppress(Exception):
            cap.grace = 0
            cap.stop()
