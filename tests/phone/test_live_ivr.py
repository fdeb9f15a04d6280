"""The handout's (fixed) IVR answering real calls: live outcome == simulate() for the same keys.

Callers press each key 0–9, * and # (an invalid key is followed by a 1 once the menu plays
again), or nothing (timeouts); the IVR's agents follow the simulator's trace in real time. For
every call, the live result (prompts heard in order, outcome, who rings) must equal
``simulate(...)`` run afterwards on the keys and times the IVR received. Twelve calls run at
once, which also measures the prompts' RTP pacing under load.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from toipkit.phone import registrar
from toipkit.phone.baresip import available as baresip_available

REPO = Path(__file__).resolve().parents[2]
FIXED_IVR = REPO / "solutions" / "data" / "fixed-s17-ivr.conf"

pytestmark = [
    pytest.mark.skipif(not (registrar.available() and baresip_available()),
                       reason="kamailio (+ kamailio-sqlite-modules) and baresip-core are needed"),
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is needed"),
    pytest.mark.skipif(not FIXED_IVR.exists(), reason="teacher data (solutions/) not present"),
]

KEYS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"]


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    from toipkit import tts
    from toipkit.dialplan import parse
    from toipkit.phone.lab import LabPhones
    from toipkit.phone.services import deploy_ivr
    from toipkit.xivo import connect, lab, sandbox

    home = tmp_path_factory.mktemp("home")
    os.environ["TOIPKIT_HOME"] = str(home)
    data_dir = tmp_path_factory.mktemp("ivr")
    sandbox.start(data_dir=data_dir)
    try:
        with connect(None, data_dir=data_dir) as client:
            for first, last, exten in (("Geralt", "Riv", 101), ("Yennefer", "Vengerberg", 102),
                                       ("Triss", "Merigold", 103), ("Hanako", "Arasaka", 105)):
                lab.create_user_with_line(client, first, last, exten)
            lab.ensure_group(client, "accueil", 201, ["101", "102"])
            lab.ensure_group(client, "support", 202, ["101", "103"])
            lab.ensure_group(client, "communication", 203, ["102", "103"])
            callers = [str(n) for n in range(110, 110 + len(KEYS) + 2)]
            for n in callers:
                lab.create_user_with_line(client, "Appelant", n, n)
            # The handout's fixed IVR, waiting 5 s for a key instead of 20: the silent caller's
            # three timeouts then take 40 s, not 85 (same dialplan otherwise).
            text = FIXED_IVR.read_text(encoding="utf-8").replace("Set(TIMEOUT(response)=20)",
                                                                 "Set(TIMEOUT(response)=5)")
            assert "TIMEOUT(response)=5" in text
            prompts = tts.from_dialplan(parse(text, str(FIXED_IVR)), home / "sons")
            ivr = deploy_ivr(client, prompts, number="500", context="ivr", exten="s",
                             pool=len(callers))
            with LabPhones(client, ["101", "102", "103", "105"], auto_answer=False) as staff, \
                    LabPhones(client, callers, auto_answer=False) as people:
                yield {"client": client, "ivr": ivr, "staff": staff, "people": people,
                       "callers": callers, "prompts": prompts, "data_dir": data_dir}
    finally:
        sandbox.stop(data_dir)
        os.environ.pop("TOIPKIT_HOME", None)


def _press_keys(phone, plan):
    call = phone.dial("500")
    phone._wait(lambda: call.answered_at is not None or call.ended_at is not None, 15)
    assert call.answered, call.end_reason
    for at, key in plan:
        delay = call.answered_at + at - time.time()
        if delay > 0:
            time.sleep(delay)
        if call.ended_at is not None:
            break
        phone.send_dtmf(key, gap=0)
    return call


@pytest.fixture(scope="module")
def calls(network):
    """Twelve keyed calls and one silent call, all at once."""
    people, callers = network["people"], network["callers"]
    plans = {}
    for key, number in zip(KEYS, callers):
        plan = [(1.0, key)]
        if key not in "12345":
            plan.append((7.0, "1"))  # the menu plays again: choose the reception
        plans[number] = (key, plan)
    silent = callers[len(KEYS)]
    eager = callers[len(KEYS) + 1]  # presses 1 as soon as the IVR answers
    plans[eager] = ("eager", [(0.0, "1")])
    results: dict[str, object] = {}

    def run(number, plan):
        results[number] = _press_keys(people[number], plan)

    threads = [threading.Thread(target=run, args=(n, p)) for n, (_k, p) in plans.items()]
    threads.append(threading.Thread(target=run, args=(silent, [])))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    # let every IVR call reach its end (the silent one: three timeouts then goodbye)
    ivr = network["ivr"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(ivr.calls()) < len(threads):
        time.sleep(0.5)
    return plans, silent, results


def _ivr_call_of(network, number):
    return next(c for c in network["ivr"].calls() if c["caller"] == number)


def _expected(network, ivr_call):
    trace = network["ivr"].simulate(ivr_call)
    heard = [str(s.prompt) for s in trace.steps if s.prompt and s.duration > 0]
    return trace, heard


@pytest.mark.parametrize("key", KEYS)
def test_live_ivr_agrees_with_the_simulation(network, calls, key):
    plans, _silent, _results = calls
    number = next(n for n, (k, _p) in plans.items() if k == key)
    live = _ivr_call_of(network, number)
    assert live["keys"] and live["keys"][0][1] == key
    trace, heard = _expected(network, live)
    assert live["outcome"] == trace.outcome
    assert [text for _t, text in live["played"]] == heard
    if live["outcome"] == "dial":  # the number the IVR transferred to is the simulation's
        assert live["target"] in trace.target
    else:
        assert live["target"] == trace.target


def test_key_pressed_as_soon_as_the_ivr_answers(network, calls):
    """The welcome prompt is cut at once: live and simulated still list the same prompts."""
    plans, _silent, _results = calls
    number = next(n for n, (k, _p) in plans.items() if k == "eager")
    live = _ivr_call_of(network, number)
    trace, heard = _expected(network, live)
    assert live["outcome"] == trace.outcome == "dial"
    assert [text for _t, text in live["played"]] == heard


def test_silent_caller_gets_the_timeouts_then_goodbye(network, calls):
    _plans, silent, _results = calls
    live = _ivr_call_of(network, silent)
    trace, heard = _expected(network, live)
    assert live["keys"] == []
    assert live["outcome"] == trace.outcome == "hangup"
    assert [text for _t, text in live["played"]] == heard
    assert heard[-1] == "Au revoir"


def test_transferred_caller_rings_the_group(network, calls):
    plans, _silent, results = calls
    number = next(n for n, (k, _p) in plans.items() if k == "1")
    phone = network["people"][number]
    # after the IVR's REFER, the caller's phone called 201 itself
    assert any(c.peer == "201" for c in phone.calls), [(c.peer, c.status) for c in phone.calls]
    records = [r for r in registrar.call_records(network["data_dir"])
               if r["caller"] == number and r["callee"] == "201"]
    assert records


def test_caller_heard_the_prompts(network, calls):
    """The silent caller heard the whole menu: each prompt's WAV is in its recording."""
    from toipkit.phone.phone import audio_similarity

    _plans, silent, results = calls
    call = results[silent]
    deadline = time.monotonic() + 5
    while call.recording_path is None and time.monotonic() < deadline:
        time.sleep(0.1)
    heard = call.recording()
    manifest = network["prompts"].manifest
    menu = [name for name in manifest if "tapez" in name or "bienvenue" in name]
    assert len(menu) >= 5
    for name in menu:
        assert audio_similarity(manifest[name].audio("wav"), heard) >= 0.9, name


def test_ivr_refuses_applications_it_cannot_run(network):
    from toipkit.dialplan import parse
    from toipkit.phone.ivr import IvrError
    from toipkit.phone.services import deploy_ivr

    dialplan = parse("[ivr]\nexten => s,1,Answer()\n same => n,Record(msg.wav)\n", "svi.conf")
    with pytest.raises(IvrError) as err:
        deploy_ivr(network["client"], dialplan, number="501", context="ivr")
    assert "svi.conf:3: Record" in str(err.value)
