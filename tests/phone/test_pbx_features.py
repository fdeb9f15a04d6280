"""PBX features routed by the sandbox's registrar, as configured through confd.

Ring groups (``all`` in parallel, ``linear`` one member after the other with their timeouts,
hold music to the waiting caller) and the boss/secretary filter (``*37<member>`` switches it),
with real phones on loopback.
"""

from __future__ import annotations

import os
import shutil
import time

import pytest
from labnet import lab_sandbox

from toipkit.phone import registrar
from toipkit.phone.baresip import available as baresip_available

pytestmark = pytest.mark.skipif(
    not (registrar.available() and baresip_available()),
    reason="kamailio (+ kamailio-sqlite-modules) and baresip-core are needed")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with lab_sandbox(tmp_path_factory, "pbx") as (c, _data_dir):
        yield c


def _ring_started(phone, timeout=10.0) -> float:
    return phone.wait_for_call(timeout=timeout).started


def test_group_all_rings_every_member_and_cancels_the_others(client, phones):
    from toipkit.xivo import lab

    lab.ensure_group(client, "accueil", 201, ["101", "102"], ring_strategy="all")
    m101, m102, caller = phones("101"), phones("102"), phones("103")
    caller.dial("201")
    first, second = m101.wait_for_call(), m102.wait_for_call()
    assert abs(first.started - second.started) < 1.0  # in parallel
    answered = m102.answer()
    assert answered.answered
    deadline = time.monotonic() + 5
    while m101.calls[-1].ended_at is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert m101.calls[-1].ended_at is not None and not m101.calls[-1].answered
    # the member who did not answer received a CANCEL and answered 487
    trace = m101.dialogue().ladder()
    assert "CANCEL" in trace and any(step.startswith("487") for step in trace), trace
    caller.hangup()


@pytest.mark.skipif(shutil.which("dumpcap") is None or os.geteuid() != 0,
                    reason="timing is read on a capture: needs dumpcap and root")
def test_group_linear_rings_members_in_order_with_their_timeout(client, phones, tmp_path):
    from toipkit.phone.capture import capture
    from toipkit.xivo import lab

    group = lab.ensure_group(client, "support", 202, ["101", "103"], ring_strategy="linear")
    client.groups.update(group["id"], {"user_timeout": 3})
    m101, m103, caller = phones("101"), phones("103"), phones("102")
    sip_ports = {p.number: p.agent.config.sip_port for p in (m101, m103, caller)}
    server_port = caller.server.rsplit(":", 1)[1]
    ours = " or ".join([f"port {server_port}"] + [f"port {p}" for p in sip_ports.values()])
    with capture(filter=f"udp and ({ours})", path=tmp_path / "linear.pcapng") as cap:
        caller.dial("202")
        m101.wait_for_call()
        assert m103.answer(timeout=10).answered
        time.sleep(0.5)
        caller.hangup()
    # The times the proxy sent its INVITEs, as the capture saw them (not Python's events).
    invites = {}
    for m in cap.open().sip_messages:
        if m.method == "INVITE" and m.dport in (sip_ports["101"], sip_ports["103"]):
            invites.setdefault(m.dport, m.time)
    ring_101, ring_103 = invites[sip_ports["101"]], invites[sip_ports["103"]]
    assert abs((ring_103 - ring_101) - 3.0) <= 0.3, ring_103 - ring_101  # 3 s, within 10 %
    assert m101.calls[-1].ended_at is not None  # 101 stopped ringing when 103 started


def test_boss_secretary_filter_switched_by_its_code(client, phones):
    from toipkit.phone.phone import audio_similarity
    from toipkit.tts import synthesize
    from toipkit.xivo import lab

    lab.ensure_call_filter(client, "direction", "101", ["102"])
    codes = lab.bsfilter_codes(client.call_filters.find(name="direction"))
    boss, secretary, caller = phones("101"), phones("102"), phones("103")

    # off (XiVO's initial state): the boss's phone rings
    caller.dial("101")
    boss.wait_for_call()
    caller.hangup()
    time.sleep(0.5)

    code = codes["code"].iloc[0]
    switched = secretary.call(code, duration=8)  # a voice answer, then the server hangs up
    assert switched.answered and switched.end_reason == "raccroché par le correspondant"
    assert secretary.answer_of(switched) == "200 Filtrage active"
    spoken = synthesize("Filtrage activé.", "fr")
    assert audio_similarity(spoken, switched.recording()) >= 0.8

    # on: the secretary rings first, the boss does not
    caller.dial("101")
    call = secretary.wait_for_call()
    assert call.peer == "103"  # the caller ID is kept
    time.sleep(1.0)
    assert boss.current_call is None
    caller.hangup()
    time.sleep(0.5)

    switched = boss.call(code, duration=8)
    assert boss.answer_of(switched) == "200 Filtrage desactive"
    assert audio_similarity(synthesize("Filtrage désactivé.", "fr"), switched.recording()) >= 0.8
    before = len(secretary.calls)
    caller.dial("101")
    boss.wait_for_call()
    time.sleep(0.5)
    assert len(secretary.calls) == before
    caller.hangup()


def test_filter_code_dialled_right_after_the_filter_is_created(tmp_path_factory, tmp_path,
                                                               monkeypatch):
    """The announcements endpoint starts with the first call filter; a phone dialling the code
    at once waits for the sandbox's media endpoints to follow confd instead of getting the
    registrar's bare 603."""
    from toipkit.phone import Phone
    from toipkit.xivo import lab

    monkeypatch.setenv("TOIPKIT_HOME", str(tmp_path))
    with lab_sandbox(tmp_path_factory, "fresh-filter") as (fresh, _data_dir):
        secretary = Phone.for_line(fresh, "102")
        try:
            lab.ensure_call_filter(fresh, "direction", "101", ["102"])
            code = lab.bsfilter_codes(fresh.call_filters.find(name="direction"))["code"].iloc[0]
            switched = secretary.call(code, duration=8)
            assert secretary.answer_of(switched) == "200 Filtrage active"
        finally:
            secretary.close()


@pytest.mark.skipif(shutil.which("dumpcap") is None or os.geteuid() != 0,
                    reason="live capture needs dumpcap and root")
def test_group_cancel_is_visible_in_a_capture(client, phones, tmp_path):
    from toipkit.phone.capture import capture
    from toipkit.xivo import lab

    lab.ensure_group(client, "accueil", 201, ["101", "102"], ring_strategy="all")
    team = [phones("101"), phones("102", auto_answer=True), phones("103")]
    caller = team[2]
    server_port = caller.server.rsplit(":", 1)[1]
    ours = " or ".join([f"port {server_port}"] + [f"port {p.agent.config.sip_port}"
                                                  for p in team])
    with capture(filter=f"udp and ({ours})", path=tmp_path / "group.pcapng") as cap:
        call = caller.call("201", duration=1.0)
    assert call.answered
    analysed = cap.open()
    methods = [m.method or str(m.status) for m in analysed.sip_messages]
    assert "CANCEL" in methods and "487" in methods


def _music(seconds=4.0):
    """A tune nobody else plays: a rising then falling sweep (WAV bytes, 8 kHz)."""
    import io
    import wave

    import numpy as np

    t = np.arange(int(8000 * seconds)) / 8000
    freq = 400 + 600 * np.abs(np.sin(np.pi * t / seconds))
    samples = (np.sin(2 * np.pi * np.cumsum(freq) / 8000) * 9000).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(samples.tobytes())
    return out.getvalue(), samples


def test_group_caller_hears_the_hold_music_while_members_ring(client, phones):
    """The group's music-on-hold file reaches the waiting caller as early media (183); the
    member who answers then gets the call, and the music's branch is cancelled."""
    from toipkit.phone.phone import audio_similarity
    from toipkit.tts.audio import Audio
    from toipkit.xivo import lab

    data, samples = _music()
    category = lab.ensure_moh(client, "attente", quiet=True)
    client.moh.upload_file(category, "attente.wav", data)
    lab.ensure_group(client, "musique", 204, ["101", "102"], music_on_hold="attente",
                     quiet=True)
    m101, m102, caller = phones("101"), phones("102"), phones("103")
    call = caller.dial("204")  # waits for the sandbox to start the music's endpoint
    m101.wait_for_call()
    m102.wait_for_call()
    time.sleep(1.5)  # ringing: the caller listens to the music
    answered = m101.answer()
    assert answered.answered
    caller._wait(lambda: call.answered_at is not None, 5)
    assert call.answered and call.peer == "204"
    time.sleep(0.5)
    caller.hangup()
    ladder = caller.dialogue().ladder()
    assert any(step.startswith("183") for step in ladder), ladder
    heard = call.recording()
    excerpt = Audio(samples[2000:6000].astype("int16"), 8000)  # half a second of the tune
    assert audio_similarity(excerpt, heard) >= 0.8
    # 102 was cancelled as usual; the call went on with 101
    assert m102.calls[-1].ended_at is not None and not m102.calls[-1].answered
    assert m101.calls[-1].answered


def test_linear_group_caller_hears_the_music_across_its_stages(client, phones):
    """Ring strategy ``linear``: the music goes on while the group moves from its first member
    (who does not answer) to the second, as a queue's hold music does in Asterisk; the caller's
    recording holds it all although baresip records each early-media answer in its own file."""
    import numpy as np

    from toipkit.xivo import lab

    data, _samples = _music(seconds=8.0)
    category = lab.ensure_moh(client, "attente-lineaire", quiet=True)
    client.moh.upload_file(category, "attente.wav", data)
    group = lab.ensure_group(client, "lineaire", 207, ["101", "102"], ring_strategy="linear",
                             music_on_hold="attente-lineaire", quiet=True)
    client.groups.update(group["id"], {"user_timeout": 2})
    m101, m102, caller = phones("101"), phones("102"), phones("103")
    call = caller.dial("207")
    m101.wait_for_call()
    m102.wait_for_call(timeout=5)  # 101 did not answer: the second stage
    time.sleep(1.5)
    assert m102.answer().answered
    caller._wait(lambda: call.answered_at is not None, 5)
    time.sleep(0.5)
    caller.hangup()
    heard = call.recording().samples.astype(float)
    window = 800  # 100 ms
    loud = [np.sqrt(np.mean(heard[i:i + window] ** 2)) > 1000
            for i in range(0, len(heard) - window, window)]
    start = loud.index(True)
    run = 0
    while start + run < len(loud) and loud[start + run]:
        run += 1
    # 2 s on 101 then 1.5 s on 102 before the answer: music in one piece well past the first
    # stage's 2 s (the second stage's early media restarts it within a few hundred ms)
    assert run * 0.1 >= 2.6, (run, "".join("#" if x else "." for x in loud))


def _closed_now(client) -> dict:
    import sqlite3

    info = registrar.status(registrar.sandbox_data_dir(client))
    conn = sqlite3.connect(info.db_path)
    try:
        return {(c, e): d for c, e, d in conn.execute(
            "SELECT context, exten, destination FROM schedule_closed")}
    finally:
        conn.close()


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.1)
    return predicate()


def test_group_outside_its_schedule_goes_to_the_closed_destination(client, phones):
    """Closed now (open only in other months): the group's calls ring the schedule's
    destination (103) instead of its member (101); open again, the member rings."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from toipkit.xivo import lab

    month = dt.datetime.now(ZoneInfo("Europe/Paris")).month
    other_months = [m for m in range(1, 13) if m != month]
    secretary = lab.find_user_by_exten(client, "103")
    schedule = lab.ensure_schedule(
        client, "bureau", open_periods=[{"hours_start": "00:00", "hours_end": "23:59",
                                         "months": other_months}],
        closed_destination={"type": "user", "user_id": secretary["id"]}, quiet=True)
    lab.ensure_group(client, "horaires", 205, ["101"], schedule=schedule, quiet=True)
    assert _wait(lambda: _closed_now(client).get(("default", "205")) == "103")
    m101, m103, caller = phones("101"), phones("103"), phones("102")
    caller.dial("205")
    assert m103.wait_for_call(timeout=5).peer == "102"
    assert not m101.calls
    caller.hangup()
    # a lab's test call that must work at any hour: schedules suspended for the block
    from toipkit.phone.lab import schedules_ignored

    with schedules_ignored(client):
        caller.dial("205")
        assert m101.wait_for_call(timeout=5).peer == "102"
    caller.hangup()
    assert _wait(lambda: _closed_now(client).get(("default", "205")) == "103")
    lab.ensure_schedule(client, "bureau", open_periods=[{"hours_start": "00:00",
                                                         "hours_end": "23:59"}],
                        closed_destination={"type": "user", "user_id": secretary["id"]},
                        quiet=True)
    assert _wait(lambda: ("default", "205") not in _closed_now(client))
    caller.dial("205")
    m101.wait_for_call(timeout=5)
    assert len(m101.calls) == 2
    assert len(m103.calls) == 1
    caller.hangup()
