"""CLI commands, ladders, plots, tables and calls on a generated capture."""

from __future__ import annotations

import json

import pytest
from pcap_helpers import needs_tshark, tshark_rtp_streams
from synth import CallSpec, Leg, call_packets, frames_for, write_pcap

from toipkit.cli import main
from toipkit.pcap import (
    ladder_figure,
    ladder_mermaid,
    ladder_text,
    mos,
    read_capture,
    rtp_streams_text,
    sip_stat,
    stream_plot,
)


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "call.pcap"
    spec = CallSpec(legs=[Leg(ssrc=0xA1, count=120, dtmf="42", loss=0.05, jitter_ms=4),
                          Leg(ssrc=0xB2, count=120, jitter_ms=1)])
    write_pcap(path, frames_for(call_packets(spec, seed=12), "eth"), 1)
    return path


@needs_tshark
def test_cli_rtp_streams_is_tshark_text(capture, capsys):
    assert main(["pcap", "rtp-streams", str(capture)]) == 0
    assert capsys.readouterr().out == tshark_rtp_streams(capture)


def test_cli_summary_json(capture, capsys):
    assert main(["pcap", "summary", "--json", str(capture)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dtmf"] == "42"
    assert len(data["rtp_streams"]) == 2 and data["calls"][0]["state"] == "completed"
    assert all(1.0 <= s["mos"] <= 4.5 for s in data["rtp_streams"])


def test_cli_summary_text_and_dtmf(capture, capsys):
    assert main(["pcap", "summary", str(capture)]) == 0
    out = capsys.readouterr().out
    assert "101 -> 102: terminé (200)" in out and "DTMF (RFC 2833) : 42" in out
    assert main(["pcap", "dtmf", str(capture)]) == 0
    assert capsys.readouterr().out.strip().endswith("42")


def test_cli_ladder_outputs(capture, tmp_path, capsys):
    png = tmp_path / "ladder.png"
    assert main(["pcap", "ladder", str(capture), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mmd = tmp_path / "ladder.mmd"
    assert main(["pcap", "ladder", str(capture), "-o", str(mmd), "--call", "0"]) == 0
    assert mmd.read_text().startswith("sequenceDiagram")
    capsys.readouterr()
    assert main(["pcap", "ladder", str(capture)]) == 0
    assert "INVITE" in capsys.readouterr().out


def test_cli_reports_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"\x00" * 40)
    assert main(["pcap", "rtp-streams", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "pas un fichier pcap ou pcapng" in err and "octet 0" in err


def test_views(capture):
    import matplotlib

    matplotlib.use("Agg")
    cap = read_capture(capture)
    call = cap.calls[0]
    assert call.sequence[:4] == ["INVITE (SDP)", "100 Trying", "180 Ringing", "200 OK (SDP)"]
    assert call.sequence[-2:] == ["BYE", "200 OK"]
    text = ladder_text(cap, call=call)
    assert text.count("\n") == len(call.messages) + 1
    mer = ladder_mermaid(cap, call=call.call_id)
    assert mer.count("->>") == len(call.messages)
    assert ladder_figure(cap).axes and stream_plot(cap.rtp_streams[0]).axes
    df = cap.rtp_streams.to_frame()
    assert list(df["ssrc"]) == ["0x000000B2", "0x000000A1"]
    series = cap.stream(0xA1).series()
    assert len(series) == cap.stream("0xA1").packets
    assert series["jitter_ms"].max() == pytest.approx(cap.stream(0xA1).stats.max_jitter,
                                                       abs=20)
    assert cap.sip_messages.to_frame()["info"][0].startswith("Request: INVITE")
    assert rtp_streams_text(capture) == cap.rtp_streams_text()
    assert sip_stat(cap).requests == {"INVITE": 1, "ACK": 1, "BYE": 1}
    m = mos(cap.stream(0xA1))
    assert m.mos < mos(cap.stream(0xB2)).mos  # loss lowers the estimate
    assert cap.stream(0xA1).packetization_ms == 20.0
    assert cap._repr_markdown_().startswith("**call.pcap**")
    assert "<table" in cap.rtp_streams._repr_html_()
    # the state a notebook shows is French; the data value stays Wireshark's
    assert "<td>terminé</td>" in cap.calls._repr_html_()
    assert list(cap.calls.to_frame()["state"]) == ["completed"]
    assert type(cap.calls)([])._repr_html_() == "<p><em>(aucun)</em></p>"


def test_progress_bar_reading_gives_same_result(capture, capsys):
    with_bar = read_capture(capture, progress=True)
    assert with_bar.rtp_streams_text() == read_capture(capture).rtp_streams_text()
    assert repr(with_bar).startswith("<Capture call.pcap: pcap,")


def test_ladder_with_rtp_streams(capture):
    cap = read_capture(capture)
    text = ladder_text(cap, rtp=True)
    assert text.count("RTP g711A") == 2 and "=====" in text
    lines = text.splitlines()
    ack = next(i for i, ln in enumerate(lines) if "ACK" in ln)
    bye = next(i for i, ln in enumerate(lines) if "BYE" in ln)
    assert all(ack < i < bye for i, ln in enumerate(lines) if "RTP" in ln)
    assert ladder_mermaid(cap, rtp=True).count("-->>") == 2
