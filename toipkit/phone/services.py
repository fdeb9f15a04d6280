"""The sandbox's media endpoints, run next to its HTTP server: conference rooms and live IVRs.

Like XiVO, the sandbox answers what confd describes without any other step:

* every conference room with a number gets a :class:`ConferenceBridge` (PIN from confd), opened,
  changed or closed as the API changes the room;
* every IVR deployed with :func:`deploy_ivr` (files under ``<data_dir>/ivr/<number>/``) gets a
  :class:`LiveIvr`; its calls are appended to ``calls.jsonl`` there;
* every ring group whose music-on-hold category holds a file gets a :class:`HoldMusic`
  (early media to its waiting callers, first file of the category in name order);
* the voice answers of service codes (``*37…``: :class:`Announcements`);
* the numbers of users and groups whose schedule is closed right now, with their closed
  destination, are kept in the registrar's ``schedule_closed`` table.

The supervisor polls confd's database and the IVR folder twice a second; it stops its endpoints
when the sandbox stops. After each pass it writes which confd data it has applied
(:data:`IN_STEP`): a phone waits for it before dialling (:func:`wait_in_step`), so a call placed
just after an API change (a new call filter, room or hold music) finds its endpoint answering.
Notebooks talk to it through files only (:func:`deploy_ivr`, :class:`IvrDeployment`), so an IVR
keeps answering across kernel restarts.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toipkit.phone import registrar

IVR_FOLDER = "ivr"
DEPLOYMENT = "deployment.json"
STATUS = "status.json"
CALLS = "calls.jsonl"
POLL_SECONDS = 0.5
#: the confd data version the last finished pass applied
IN_STEP = "media-services.json"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + f".{secrets.token_hex(3)}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def confd_stamp(confd_db: Path) -> str:
    """A value that changes with every committed confd write (its per-collection versions)."""
    conn = sqlite3.connect(f"file:{confd_db}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute("SELECT name, v FROM versions ORDER BY name").fetchall()
    finally:
        conn.close()
    return ";".join(f"{name}={version}" for name, version in rows)


def wait_in_step(data_dir: Path, timeout: float = 10.0) -> bool:
    """Wait until the sandbox's media endpoints follow confd's current data (True), or
    ``timeout`` s (False: the call is placed anyway, as on a real XiVO that is late)."""
    from toipkit.xivo.sandbox.store import DB_NAME

    data_dir = Path(data_dir)
    marker = data_dir / IN_STEP
    deadline = time.monotonic() + timeout
    while True:
        try:
            wanted = confd_stamp(data_dir / DB_NAME)
        except sqlite3.Error:
            return False
        done = _read_json(marker) or {}  # missing until the first pass of this run ends
        if done.get("stamp") == wanted:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


class MediaServices:
    """Keeps the sandbox's media endpoints in step with confd and the deployed IVRs."""

    def __init__(self, data_dir: Path, confd_db: Path, info: registrar.RegistrarInfo) -> None:
        self.data_dir = Path(data_dir)
        self.confd_db = Path(confd_db)
        self.info = info
        self.rooms: dict[str, tuple[tuple, Any]] = {}
        self.ivrs: dict[str, tuple[str | None, Any]] = {}  # number -> (deployment stamp, IVR)
        self.hold_music: dict[tuple[str, str], tuple[tuple, Any]] = {}
        self.closed: dict[tuple[str, str], str] | None = None
        self.announcements: Any = None
        self._announcements_retry_at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="media-services")

    def start(self) -> MediaServices:
        (self.data_dir / IVR_FOLDER).mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):  # a former run's: says nothing of this one
            (self.data_dir / IN_STEP).unlink()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for _key, room in self.rooms.values():
            with contextlib.suppress(Exception):
                room.close()
        for _stamp, ivr in self.ivrs.values():
            with contextlib.suppress(Exception):
                ivr.close()
        for _key, music in self.hold_music.values():
            with contextlib.suppress(Exception):
                music.close()
        if self.announcements is not None:
            with contextlib.suppress(Exception):
                self.announcements.close()
            self.announcements = None
        self.rooms.clear()
        self.ivrs.clear()
        self.hold_music.clear()

    def _loop(self) -> None:
        applied = None
        while not self._stop.is_set():
            try:
                stamp = confd_stamp(self.confd_db)
            except sqlite3.Error:
                stamp = None
            for sync in (self._sync_schedules, self._sync_announcements, self._sync_rooms,
                         self._sync_ivrs, self._sync_hold_music):
                try:
                    sync()
                except Exception as exc:  # keep serving the others; say why in the log
                    print(f"toipkit sandbox: media services: {type(exc).__name__}: {exc}",
                          file=sys.stderr, flush=True)
            if stamp is not None and stamp != applied:
                with contextlib.suppress(OSError):
                    _write_json(self.data_dir / IN_STEP, {"stamp": stamp})
                applied = stamp
            self._stop.wait(POLL_SECONDS)

    # -- conference rooms --------------------------------------------------------------------
    def _conferences(self) -> dict[str, tuple[str, str | None, str]]:
        conn = sqlite3.connect(f"file:{self.confd_db}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute(
                "SELECT ext.body->>'exten', conf.body->>'name', conf.body->>'pin', "
                "ext.body->>'context' FROM objects AS conf "
                "JOIN links AS ce ON ce.rel = 'conference_extension' AND ce.a = conf.id "
                "JOIN objects AS ext ON ext.kind = 'extension' AND ext.id = ce.b "
                "WHERE conf.kind = 'conference'").fetchall()
        finally:
            conn.close()
        return {str(exten): (name, pin or None, context) for exten, name, pin, context in rows}

    def _sync_rooms(self) -> None:
        from toipkit.phone.conference import ConferenceBridge

        wanted = self._conferences()
        for number in list(self.rooms):
            key, room = self.rooms[number]
            if wanted.get(number) != key:
                room.close()
                del self.rooms[number]
        for number, key in wanted.items():
            if number not in self.rooms:
                name, pin, context = key
                self.rooms[number] = (key, ConferenceBridge(self.info, number, name, pin,
                                                            context=context))

    # -- schedules ---------------------------------------------------------------------------
    def _sync_schedules(self) -> None:
        from toipkit.phone import schedules

        closed = {} if (self.data_dir / schedules.IGNORED_FLAG).exists() \
            else schedules.closed_numbers(self.confd_db)
        if closed != self.closed:  # written only when it changes: kamailio writes there too
            schedules.publish(Path(self.info.db_path), closed)
            self.closed = closed

    # -- voice answers of service codes ------------------------------------------------------
    def _sync_announcements(self) -> None:
        """Started with the first call filter (the only service code that speaks): a sandbox
        without one does not pay for the speech synthesis and the extra line."""
        if self.announcements is None and time.monotonic() >= self._announcements_retry_at:
            from toipkit.phone.announcements import Announcements

            conn = sqlite3.connect(f"file:{self.confd_db}?mode=ro", uri=True, timeout=10)
            try:
                wanted = conn.execute("SELECT 1 FROM objects WHERE kind = 'callfilter' "
                                      "LIMIT 1").fetchone()
            finally:
                conn.close()
            if not wanted:
                return

            try:
                self.announcements = Announcements(self.info)
            except Exception:
                # a registration too slow on a loaded host: tried again later, said in the log
                self._announcements_retry_at = time.monotonic() + 10
                raise

    # -- hold music of ring groups -----------------------------------------------------------
    def _group_music(self) -> dict[tuple[str, str], tuple[str, str, int]]:
        """(context, group number) → (category uuid, first file name, its size)."""
        conn = sqlite3.connect(f"file:{self.confd_db}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute(
                "SELECT ext.body->>'context', ext.body->>'exten', moh.uuid, b.name, "
                "length(b.data) FROM objects AS g "
                "JOIN links AS ge ON ge.rel = 'group_extension' AND ge.a = g.id "
                "JOIN objects AS ext ON ext.kind = 'extension' AND ext.id = ge.b "
                "JOIN objects AS moh ON moh.kind = 'moh' "
                "  AND moh.body->>'name' = g.body->>'music_on_hold' "
                "JOIN blobs AS b ON b.owner = 'moh:' || moh.uuid "
                "WHERE g.kind = 'group' AND coalesce(g.body->>'enabled', 1) IN (1, 'true') "
                "ORDER BY b.name DESC").fetchall()
        finally:
            conn.close()
        # name order: the last row written for a group is its category's first file
        return {(str(context), str(exten)): (uuid, name, size)
                for context, exten, uuid, name, size in rows}

    def _sync_hold_music(self) -> None:
        from toipkit.phone.moh import HoldMusic
        from toipkit.tts.audio import read_sound

        wanted = self._group_music()
        for where in list(self.hold_music):
            key, music = self.hold_music[where]
            if wanted.get(where) != key:
                music.close()
                del self.hold_music[where]
        for where, key in wanted.items():
            if where in self.hold_music:
                continue
            context, number = where
            uuid, name, _size = key
            folder = self.data_dir / "moh" / uuid
            folder.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(f"file:{self.confd_db}?mode=ro", uri=True, timeout=10)
            try:
                data = conn.execute("SELECT data FROM blobs WHERE owner = ? AND name = ?",
                                    ("moh:" + uuid, name)).fetchone()
            finally:
                conn.close()
            if data is None:
                continue
            path = folder / Path(name).name
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(bytes(data[0]))
            os.replace(tmp, path)
            try:
                music = HoldMusic(self.info, number, read_sound(path), context=context)
            except Exception as exc:  # a file we cannot read: say so once, keep the group
                print(f"toipkit sandbox: hold music of group {number}: {exc}", file=sys.stderr,
                      flush=True)
                music = _Failed()
            self.hold_music[where] = (key, music)

    # -- IVRs --------------------------------------------------------------------------------
    def _sync_ivrs(self) -> None:
        root = self.data_dir / IVR_FOLDER
        deployed = {}
        for folder in root.iterdir() if root.exists() else []:
            spec = _read_json(folder / DEPLOYMENT)
            if spec is not None:
                deployed[folder.name] = (folder, spec)
        for number in list(self.ivrs):
            stamp, ivr = self.ivrs[number]
            if number not in deployed or deployed[number][1].get("stamp") != stamp:
                ivr.close()
                del self.ivrs[number]
        for number, (folder, spec) in deployed.items():
            if number not in self.ivrs:
                self._start_ivr(number, folder, spec)

    def _start_ivr(self, number: str, folder: Path, spec: dict[str, Any]) -> None:
        from toipkit.dialplan import parse_file
        from toipkit.phone.ivr import LiveIvr
        from toipkit.tts.prompts import Manifest
        from toipkit.xivo.sandbox import process

        stamp = spec.get("stamp")
        try:
            dialplan = parse_file(folder / "extensions.conf")
            manifest_path = folder / "sounds" / "manifest.json"
            sounds = Manifest.load(manifest_path) if manifest_path.exists() else None
            ivr = LiveIvr(self.info, dialplan, number=number, context=spec["context"],
                          exten=spec.get("exten", "s"), sounds=sounds,
                          directory=lambda: process.directory(self.data_dir),
                          pool=int(spec.get("pool", 4)),
                          caller_context=spec.get("caller_context", "default"),
                          folder=folder / "agents", log_path=folder / CALLS)
        except Exception as exc:
            _write_json(folder / STATUS, {"stamp": stamp, "ok": False, "error": str(exc)})
            self.ivrs[number] = (stamp, _Failed())
            return
        self.ivrs[number] = (stamp, ivr)
        _write_json(folder / STATUS, {"stamp": stamp, "ok": True, "error": ""})


class _Failed:
    """A deployment that could not start: remembered so that it is not retried in a loop."""

    def close(self) -> None:
        pass


# -- the notebook's side ------------------------------------------------------------------------
@dataclass
class IvrDeployment:
    """An IVR deployed on the sandbox: its calls as the media endpoint saw them."""

    folder: Path
    number: str
    context: str
    exten: str

    def calls(self) -> list[dict[str, Any]]:
        """Finished calls: caller, keys ``[(seconds, key)]``, prompts heard, outcome, target."""
        try:
            lines = (self.folder / CALLS).read_text("utf-8").splitlines()
        except OSError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    def simulate(self, call: dict[str, Any], directory: dict[str, Any] | None = None):
        """``simulate(...)`` of the deployed dialplan with the keys this call received."""
        from toipkit.dialplan import parse_file, simulate
        from toipkit.tts.prompts import Manifest

        manifest_path = self.folder / "sounds" / "manifest.json"
        sounds = Manifest.load(manifest_path) if manifest_path.exists() else None
        if directory is None:
            from toipkit.xivo.sandbox import process

            directory = process.directory(self.folder.parent.parent)
        return simulate(parse_file(self.folder / "extensions.conf"), self.context, self.exten,
                        dtmf=[tuple(k) for k in call["keys"]], sounds=sounds,
                        directory=directory, callerid=call["caller"])

    def to_frame(self):
        import pandas as pd

        rows = [{"appelant": c["caller"], "touches": "".join(k for _t, k in c["keys"]),
                 "annonces": " → ".join(t for _s, t in c["played"]),
                 "fin": c["outcome"], "destination": c["target"]} for c in self.calls()]
        return pd.DataFrame(rows, columns=["appelant", "touches", "annonces", "fin",
                                           "destination"])

    def _repr_markdown_(self) -> str:
        return (f"**SVI en direct** sur le {self.number} ([{self.context}] {self.exten}) : "
                f"{len(self.calls())} appel(s) terminé(s)")


def deploy_ivr(client: Any, dialplan: Any, *, number: str = "500", context: str = "ivr",
               exten: str = "s", pool: int = 4, caller_context: str = "default",
               timeout: float = 20.0) -> IvrDeployment:
    """Deploy an IVR on the client's sandbox: calls to ``number`` (from ``caller_context``)
    enter ``context``/``exten`` of ``dialplan`` — a parsed dialplan or the result of
    ``tts.from_dialplan`` (its prompts are deployed with it). Replaces a previous deployment
    of the same number. Refused at once (French message) if the live engine cannot run it."""
    from toipkit.dialplan.render import to_text
    from toipkit.phone.ivr import IvrError, check_deployable

    sounds = None
    if hasattr(dialplan, "dialplan") and hasattr(dialplan, "manifest"):
        sounds = dialplan.manifest
        dialplan = dialplan.dialplan
    check_deployable(dialplan, context)
    data_dir = registrar.sandbox_data_dir(client)
    if data_dir is None or registrar.status(data_dir) is None:
        raise IvrError("le SVI en direct se déploie sur le bac à sable (réseau de lab) ; sur un "
                       "vrai XiVO, copiez extensions.conf et rechargez le dialplan "
                       "(`dialplan reload`)")
    folder = Path(data_dir) / IVR_FOLDER / str(number)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = secrets.token_hex(8)
    staging = folder.with_name(f".{number}-{stamp}")
    staging.mkdir()
    try:
        (staging / "extensions.conf").write_text(to_text(dialplan), encoding="utf-8")
        if sounds is not None and sounds.root is not None:
            shutil.copytree(sounds.root, staging / "sounds")
            # the manifest's files are relative to its root: they follow the copy
        for name in ("extensions.conf", "sounds"):
            target = folder / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            if (staging / name).exists():
                os.replace(staging / name, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (folder / CALLS).unlink()
    _write_json(folder / DEPLOYMENT, {"stamp": stamp, "context": context, "exten": exten,
                                      "pool": pool, "caller_context": caller_context})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _read_json(folder / STATUS)
        if status is not None and status.get("stamp") == stamp:
            if not status.get("ok"):
                raise IvrError(f"le bac à sable n'a pas pu démarrer le SVI : {status['error']}")
            return IvrDeployment(folder, str(number), context, exten)
        time.sleep(0.1)
    raise IvrError(f"le bac à sable n'a pas démarré le SVI en {timeout:g} s : relancez-le "
                   "(`toipkit sandbox stop` puis `start`) ; son journal : server.log")
