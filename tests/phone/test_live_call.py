"""A live call on the lab network, captured with dumpcap and read back against tshark.

101 calls 102 for several seconds with audio both ways and DTMF; the capture must show the
handout's ladder and two RTP streams, toipkit's RTP statistics must equal tshark's text, the
digits must be decoded, and what 102 heard must be what 101 played. Then the same call through
the impairment relay, and 20 calls at once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toipkit.phone import registrar
from toipkit.phone.baresip import available as baresip_available

pytestmark = [
    pytest.mark.skipif(not (registrar.available() and baresip_available()),
                       reason="kamailio (+ kamailio-sqlite-modules) and baresip-core are needed"),
    pytest.mark.skipif(shutil.which("tshark") is None or shutil.which("dumpcap") is None,
                       reason="tshark and dumpcap are needed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="live capture on lo needs root here"),
]


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    from toipkit.phone.lab import LabPhones
    from toipkit.xivo import connect, lab, sandbox

    data_dir = tmp_path_factory.mktemp("livecall")
    os.environ["TOIPKIT_HOME"] = str(tmp_path_factory.mktemp("home"))
    sandbox.start(data_dir=data_dir)
    try:
        with connect(None, data_dir=data_dir) as client:
            for first, last, exten in (("Geralt", "Riv", 101), ("Yennefer", "Vengerberg", 102)):
                lab.create_user_with_line(client, first, last, exten)
            phones = LabPhones(client, ["101", "102"])
            yield phones
            phones.close()
    finally:
        sandbox.stop(data_dir)
        os.environ.pop("TOIPKIT_HOME", None)


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """A sentence spoken by espeak-ng (a sound nobody here recorded by hand)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed")
    path = tmp_path_factory.mktemp("audio") / "phrase.wav"
    subprocess.run(["espeak-ng", "-v", "fr", "-s", "150", "-w", str(path),
                    "Bonjour, vous êtes bien au laboratoire de téléphonie sur IP."], check=True)
    return path


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    if shutil.which("sox") is None:
        pytest.skip("sox is needed")
    path = tmp_path_factory.mktemp("audio") / "tone.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path),
                    "synth", "3", "sine", "600", "vol", "0.4"], check=True)
    return path


def _tshark_rtp_streams(path) -> str:
    return subprocess.run(["tshark", "-n", "-q", "-r", str(path), "-z", "rtp,streams"],
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def live_call(team, speech, tone, tmp_path_factory):
    from toipkit.phone.capture import capture

    path = tmp_path_factory.mktemp("cap") / "call.pcapng"
    caller, callee = team["101"], team["102"]
    with capture(filter=team.capture_filter, path=path) as cap:
        call = caller.call("102", wait_answer=10)
        assert call.answered, call.end_reason
        callee.play(tone)
        caller.play(speech)
        time.sleep(4.5)
        caller.send_dtmf("6789")
        time.sleep(1.0)
        caller.hangup()
    assert cap.live, cap.message
    return cap, call


def test_live_capture_shows_the_handout_ladder(live_call):
    cap, _ = live_call
    analysed = cap.open()
    answered = analysed.calls.answered
    assert answered, "no answered call in the capture"
    sequence = [m.method or str(m.status) for m in answered[0].messages]
    remaining = iter(sequence)
    assert all(step in remaining for step in ["INVITE", "100", "180", "200", "ACK", "BYE"]), \
        sequence


def test_live_capture_has_two_rtp_streams_equal_to_tshark(live_call):
    from toipkit.pcap import rtp_streams_text

    cap, _ = live_call
    analysed = cap.open()
    assert len(analysed.rtp_streams) == 2
    assert len({(s.dst, s.dport) for s in analysed.rtp_streams}) == 2
    assert all(s.packets > 5 / 0.02 * 0.9 for s in analysed.rtp_streams)  # >= ~5 s each
    assert rtp_streams_text(analysed) == _tshark_rtp_streams(cap.path)


def test_cli_rtp_streams_equals_tshark_on_the_live_capture(live_call):
    cap, _ = live_call
    cli = Path(sys.executable).with_name("toipkit")
    ours = subprocess.run([str(cli), "pcap", "rtp-streams", str(cap.path)],
                          capture_output=True, text=True, check=True).stdout
    assert ours == _tshark_rtp_streams(cap.path)


def test_live_capture_dtmf_is_decoded(live_call):
    cap, _ = live_call
    assert cap.open().dtmf.digits == "6789"


def test_callee_heard_what_the_caller_played(live_call, team, speech, tone):
    from toipkit.phone.phone import audio_similarity

    _, call = live_call
    heard_by_102 = team["102"].calls[-1].recording()
    heard_by_101 = call.recording()
    assert audio_similarity(speech, heard_by_102) >= 0.9
    assert audio_similarity(tone, heard_by_101) >= 0.9
    # and not the other way round: each side hears the other one, not itself
    assert audio_similarity(tone, heard_by_102) < 0.5


def _stream_towards(analysed, port):
    return next(s for s in analysed.rtp_streams if s.dport == port)


def test_impaired_call_shows_the_loss_and_jitter_asked_for(team, tmp_path):
    from toipkit.phone.capture import capture

    loss, jitter_ms = 0.03, 20.0
    with team.impaired("102", loss=loss, jitter_ms=jitter_ms, seed=7) as path:
        with capture(filter=path.capture_filter, path=tmp_path / "impaired.pcapng") as cap:
            call = team.call("101", "102", duration=12)
        assert call.answered
        report = path.report()
    analysed = cap.open()
    towards_102 = _stream_towards(analysed, team["102"].rtp_port)
    stats = towards_102.stats
    assert report.rtp_in >= 500
    assert abs(stats.lost / stats.expected - loss) <= 0.2 * loss, stats
    assert abs(stats.mean_jitter - jitter_ms) <= 0.2 * jitter_ms, stats
    # the other direction is untouched
    towards_101 = _stream_towards(analysed, team["101"].rtp_port)
    assert towards_101.stats.lost == 0 and towards_101.stats.mean_jitter < 5


def test_twenty_simultaneous_calls_for_a_minute(tmp_path_factory):
    from toipkit.phone.capture import capture
    from toipkit.phone.lab import LabPhones
    from toipkit.xivo import connect, lab, sandbox

    data_dir = tmp_path_factory.mktemp("load")
    sandbox.start(data_dir=data_dir)
    try:
        with connect(None, data_dir=data_dir) as client:
            numbers = [str(n) for n in range(110, 150)]
            for n in numbers:
                lab.create_user_with_line(client, "Poste", n, n)
            with LabPhones(client, numbers) as phones:
                callers, callees = numbers[:20], numbers[20:]
                path = tmp_path_factory.mktemp("cap") / "load.pcapng"
                # SIP too: the RTP streams are found from the SDP, as in Wireshark.
                with capture(filter=phones.capture_filter, path=path) as cap:
                    calls = [phones[a].call(b, wait_answer=15) for a, b in zip(callers, callees)]
                    assert all(c.answered for c in calls), [c.end_reason for c in calls]
                    time.sleep(60)
                    for a in callers:
                        phones[a].hangup()
                records = [r for r in registrar.call_records(data_dir)
                           if r["caller"] in callers]
                assert len(records) == 20 and all(r["outcome"] == "answered" for r in records)
        analysed = cap.open()
        assert len(analysed.rtp_streams) == 40
        expected = sum(s.stats.expected for s in analysed.rtp_streams)
        lost = sum(max(s.stats.lost, 0) for s in analysed.rtp_streams)
        assert expected >= 40 * 60 / 0.02 * 0.95
        assert lost / expected <= 0.001, (lost, expected)
    finally:
        sandbox.stop(data_dir)
