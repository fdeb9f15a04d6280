"""pyshark through toipkit.pcap.packets works inside a kernel run by papermill."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from synth import CallSpec, Leg, call_packets, frames_for, write_pcap

from toipkit.pcap import packets


@pytest.fixture(scope="module")
def small_capture(tmp_path_factory):
    path = tmp_path_factory.mktemp("bridge") / "call.pcap"
    spec = CallSpec(legs=[Leg(ssrc=0x77, count=20), Leg(ssrc=0x88, count=20)])
    write_pcap(path, frames_for(call_packets(spec, seed=9), "eth"), 1)
    return path


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_missing_capture_is_a_clear_error_in_both_languages(tmp_path, monkeypatch):
    from toipkit.errors import CaptureFormatError

    missing = tmp_path / "absent.pcap"
    with pytest.raises(CaptureFormatError) as err:
        packets(missing)
    assert str(err.value) == f"{missing}: capture introuvable"
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    with pytest.raises(CaptureFormatError) as err:
        packets(missing)
    assert str(err.value) == f"{missing}: capture not found"


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_packets_in_script(small_capture):
    sip = packets(small_capture, display_filter="sip")
    assert [p.sip.get_field_value("method") or p.sip.get_field_value("status_code")
            for p in sip][:3] == ["INVITE", "100", "180"]
    rtp = packets(small_capture, display_filter="rtp", limit=5)
    assert len(rtp) == 5 and rtp[0].rtp.ssrc == "0x00000077"


@pytest.mark.notebook
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_packets_inside_papermill_kernel(small_capture, tmp_path):
    papermill = pytest.importorskip("papermill")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell("capture = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "import asyncio\n"
            "from toipkit.pcap import packets\n"
            "# the kernel's own loop is running here, which breaks plain pyshark\n"
            "assert asyncio.get_event_loop().is_running()\n"
            "pk = packets(capture, display_filter='sip')\n"
            "print(len(pk), pk[0].sip.method)\n"
            "rtp = packets(capture, display_filter='rtp', limit=3)\n"
            "print(len(rtp), rtp[0].rtp.ssrc)"),
    ]
    src = tmp_path / "in.ipynb"
    out = tmp_path / "out.ipynb"
    nbformat.write(nb, src)
    papermill.execute_notebook(str(src), str(out), parameters={"capture": str(small_capture)},
                               kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
                               execution_timeout=120)
    result = nbformat.read(out, as_version=4)
    text = "".join(o.get("text", "") for o in result.cells[-1].outputs)
    assert text.split("\n")[:2] == ["7 INVITE", "3 0x00000077"], text
