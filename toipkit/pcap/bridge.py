"""pyshark that works inside Jupyter / papermill kernels.

pyshark drives tshark through asyncio and calls ``run_until_complete`` on the current event
loop; inside ipykernel that loop is already running ("This event loop is already running").
Here pyshark runs in a worker thread that owns a fresh event loop, and child processes are
watched by a thread-based watcher (so tshark's exit is seen by that loop, not reported as a
crash). The packets are plain objects once parsed, so the caller's thread can use them freely.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import shutil
import threading
import warnings

from toipkit.errors import CaptureFormatError
from toipkit.i18n import _


def _ensure_thread_safe_watcher() -> None:
    if os.name != "posix":
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            watcher = asyncio.get_child_watcher()
        except Exception:  # noqa: BLE001 - no watcher yet
            watcher = None
        if not isinstance(watcher, asyncio.ThreadedChildWatcher):
            asyncio.set_child_watcher(asyncio.ThreadedChildWatcher())


class _SpentLoop:
    """Stands in for the closed loop so pyshark's ``__del__`` -> ``close()`` is a no-op."""

    def run_until_complete(self, coro):
        if hasattr(coro, "close"):
            coro.close()

    def is_closed(self) -> bool:
        return True


class _QuietReaper(logging.Filter):
    """Drop asyncio's 'Unknown child process pid' notice about tshark already reaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Unknown child process pid" not in record.getMessage()


def packets(path, display_filter: str | None = None, limit: int | None = None,
            use_json: bool = False, decode_as: dict | None = None,
            override_prefs: dict | None = None, timeout: float = 600.0) -> list:
    """Return the pyshark packets of ``path`` matching ``display_filter`` (tshark syntax).

    ``limit`` stops after that many packets. pyshark's XML (PDML) mode is used by default
    because its field names are the friendliest (``pkt.sip.method``); ``use_json=True`` is
    about 7× faster on big selections. Works in scripts and in notebooks.
    """
    try:
        import pyshark
    except ImportError as exc:  # pragma: no cover - pyshark is a dependency
        raise CaptureFormatError(_("pyshark n'est pas installé")) from exc
    if shutil.which("tshark") is None:
        raise CaptureFormatError(_("tshark n'est pas installé (pyshark en a besoin)"))
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CaptureFormatError(_("capture introuvable"), path=path)
    result: list = []
    error: list[BaseException] = []

    def work() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        cap = None
        try:
            _ensure_thread_safe_watcher()
            kwargs = {"display_filter": display_filter, "keep_packets": False,
                      "eventloop": loop, "decode_as": decode_as,
                      "override_prefs": override_prefs}
            if use_json:
                kwargs["use_json"] = True
            cap = pyshark.FileCapture(path, **kwargs)
            for pkt in cap:
                result.append(pkt)
                if limit is not None and len(result) >= limit:
                    break
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            error.append(exc)
        finally:
            if cap is not None:
                try:
                    cap.close()
                except Exception:  # noqa: BLE001 - closing a finished tshark may complain
                    pass
                cap.eventloop = _SpentLoop()
            cap = None
            try:
                # let killed-tshark transports close while their loop still runs
                loop.run_until_complete(asyncio.sleep(0.05))
                gc.collect()
                loop.run_until_complete(asyncio.sleep(0))
                loop.run_until_complete(loop.shutdown_asyncgens())
            except Exception:  # noqa: BLE001
                pass
            loop.close()
            asyncio.set_event_loop(None)

    quiet = _QuietReaper()
    alog = logging.getLogger("asyncio")
    alog.addFilter(quiet)
    try:
        t = threading.Thread(target=work, name="toipkit-pyshark", daemon=True)
        t.start()
        t.join(timeout)
    finally:
        alog.removeFilter(quiet)
    if t.is_alive():
        raise CaptureFormatError(_("pyshark n'a pas fini en {seconds} s").format(
            seconds=f"{timeout:.0f}"), path=path)
    if error:
        failure = error[0]
        if isinstance(failure, Exception) and not isinstance(failure, CaptureFormatError):
            raise CaptureFormatError(_("échec de pyshark/tshark : {error}").format(error=failure),
                                     path=path) from failure
        raise failure
    return result
