"""dialplan show format, graph, frames, the CLI and the keypad fallback."""

from __future__ import annotations

import json
import subprocess
import sys

from toipkit.dialplan import parse, parse_file
from toipkit.dialplan.widgets import DialPad, dial_pad


def test_show_matches_asterisk_layout(dialplans):
    dp = parse_file(dialplans / "handout-s17-ivr.conf")
    text = dp.show("ivr")
    lines = text.splitlines()
    assert lines[0] == "[ Context 'ivr' created by 'pbx_config' ]"
    # "  %-17s %-45s [%s:%d]" as in main/pbx.c print_ext
    assert lines[1] == ("  '1' =>            1. SayNumber(1)                               "
                        "[handout-s17-ivr.conf:13]")
    assert lines[2] == ("                    2. Goto(default,201,1)                        "
                        "[handout-s17-ivr.conf:14]")
    # literals in ASCII order, then the pattern last
    starts = [ln.split("'")[1] for ln in lines if ln.startswith("  '")]
    assert starts == ["1", "2", "3", "4", "5", "s", "say_hash", "say_invalid", "say_star", "t",
                      "_[06-9*#]"]
    assert lines[-1] == "-= 11 extensions (31 priorities) in 1 context. =-"


def test_show_reverse_file_order_labels_includes_and_filters():
    dp = parse("[a]\nexten => 1,1,NoOp()\n same => n(lab),Hangup()\ninclude => b\n"
               "[b]\nexten => _2X,1,NoOp()\n")
    text = dp.show()
    assert text.index("Context 'b'") < text.index("Context 'a'")
    assert "  " + "   [lab]".ljust(17) + " 2. Hangup()" in text
    assert "  Include =>        'b'" in text
    assert dp.show(file_order=True).startswith("[ Context 'a'")
    assert "'_2X' =>" in dp.show("25@b")
    assert dp.show("nope") == "There is no existence of 'nope' context"


def test_graph_and_frame(dialplans):
    dp = parse_file(dialplans / "handout-s15.conf")
    g = dp.graph()
    assert g.source.startswith("flowchart LR")
    assert "ctx_appel" in g.source and "stroke-dasharray" in g.source
    assert g._repr_markdown_().startswith("```mermaid")
    df = dp.to_frame()
    assert len(df) == 12 and set(df["context"]) == {"default", "accueil", "menu"}


class _Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _cli(*args, capsys=None):
    """Run `toipkit dialplan ...` in this process (the entry point is tested once below)."""
    from toipkit.cli import main

    code = main(["dialplan", *args])
    out, err = capsys.readouterr()
    return _Result(code, out, err)


def test_entry_point_runs(dialplans):
    r = subprocess.run([sys.executable, "-m", "toipkit.cli", "dialplan", "lint",
                        str(dialplans / "handout-s17-ivr.conf"), "--lang", "en"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "goto-arguments" in r.stdout


def test_dialplan_commands_import_no_notebook_or_dataframe_library(dialplans):
    # `toipkit dialplan ...` must start fast: nbformat/jsonschema (course) and pandas/numpy
    # cost seconds of imports. (The time itself is measured by benchmarks/bench_dialplan.py.)
    code = ("import sys\nfrom toipkit.cli import main\n"
            "rc = main(['dialplan', 'lint', sys.argv[1], '--lang', 'en'])\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'nbformat', 'jsonschema', "
            "'pandas', 'numpy', 'matplotlib', 'ipywidgets', 'IPython', 'papermill'})\n"
            "print('HEAVY', heavy, rc)\n")
    r = subprocess.run([sys.executable, "-c", code, str(dialplans / "handout-s17-ivr.conf")],
                       capture_output=True, text=True)
    assert "HEAVY [] 1" in r.stdout, r.stdout[-500:] + r.stderr[-2000:]


def test_cli_lint_json_and_exit_code(dialplans, capsys):
    r = _cli("lint", str(dialplans / "handout-s15.conf"), "--json", "--lang", "en", capsys=capsys)
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert {"line", "column", "rule", "severity", "message"} <= set(data[0])
    assert ("removed-app", 7) in {(f["rule"], f["line"]) for f in data}
    r = _cli("lint", str(dialplans / "fixed-s15.conf"), capsys=capsys)
    assert r.returncode == 0


def test_cli_simulate_show_graph(dialplans, tmp_path, directory, capsys):
    d = tmp_path / "dir.json"
    d.write_text(json.dumps(directory))
    r = _cli("simulate", str(dialplans / "fixed-s17-ivr.conf"), "--context", "ivr",
             "--dtmf", "1", "--directory", str(d), "--json", capsys=capsys)
    assert r.returncode == 0
    out = json.loads(r.stdout)
    assert out["outcome"] == "dial" and out["target"].startswith("groupe accueil (201)")
    r = _cli("simulate", str(dialplans / "fixed-s15.conf"), "--context", "default", "--exten",
             "100", "--dtmf", "9:#,10:1", "--lang", "en", capsys=capsys)
    assert "rings 101, 102" in r.stdout
    r = _cli("show", str(dialplans / "handout-s15.conf"), "accueil", capsys=capsys)
    assert "[ Context 'accueil' created by 'pbx_config' ]" in r.stdout
    r = _cli("graph", str(dialplans / "handout-s15.conf"), "--markdown", capsys=capsys)
    assert r.stdout.startswith("```mermaid")
    r = _cli("show", str(tmp_path / "missing.conf"), capsys=capsys)
    assert r.returncode == 1 and "impossible de lire le dialplan" in r.stderr


def test_cli_syntax_error_is_clean(tmp_path, capsys):
    f = tmp_path / "bad.conf"
    f.write_text("[c]\nexten => 1,n,NoOp()\n")
    r = _cli("show", str(f), "--strict", capsys=capsys)
    assert r.returncode == 1
    assert "bad.conf:2:12" in r.stderr and "Traceback" not in r.stderr


def test_cli_loads_what_asterisk_loads(tmp_path, capsys):
    # pbx/pbx_config.c:1818 "Can't use 'next' priority on the first entry": pbx_config warns,
    # skips that line (`continue`) and loads the rest: so does the CLI unless --strict.
    f = tmp_path / "bad.conf"
    f.write_text("[c]\nexten => 1,n,NoOp()\nexten => 2,1,Hangup()\n")
    r = _cli("show", str(f), capsys=capsys)
    assert r.returncode == 0
    assert "WARNING: " in r.stderr and "bad.conf:2:12" in r.stderr
    assert "'2' =>" in r.stdout and "'1' =>" not in r.stdout
    r = _cli("simulate", str(f), "--context", "c", "--exten", "2", "--json", capsys=capsys)
    assert r.returncode == 0 and "Hangup" in [s["app"] for s in json.loads(r.stdout)["steps"]]
    # Printed as Asterisk logs it (pbx/pbx_config.c:1817), then where exactly and why.
    assert r.stderr.splitlines()[0] == ("WARNING: pbx_config.c: Can't use 'next' priority on the "
                                        f"first entry at line 2 of {f}!")
    assert r.stderr.splitlines()[1].startswith(f"    {f}:2:12: ")
    assert _cli("show", str(f), "--lenient", capsys=capsys).returncode == 0  # the default


def test_cli_refuses_what_asterisks_config_reader_refuses(tmp_path, capsys):
    # main/config.c:2281 "parse error: No category context" makes process_text_line return -1:
    # the file is CONFIG_STATUS_FILEINVALID and pbx_config.c:1704 loads nothing of it.
    f = tmp_path / "nocontext.conf"
    f.write_text("exten => 1,1,NoOp()\n[c]\nexten => 2,1,Hangup()\n")
    r = _cli("show", str(f), capsys=capsys)
    assert r.returncode == 1 and r.stdout == ""
    assert f"WARNING: config.c: parse error: No category context for line 1 of {f}" in r.stderr
    assert "Asterisk ne chargerait rien de" in r.stderr and "Traceback" not in r.stderr
    # A missing #include too (main/config.c:2260, an ERROR); a #tryinclude is fine.
    f.write_text("[c]\n#include nothere.conf\nexten => 2,1,Hangup()\n")
    r = _cli("simulate", str(f), "--context", "c", "--exten", "2", capsys=capsys)
    assert r.returncode == 1
    assert "ERROR: config.c: The file 'nothere.conf' was listed as a #include" in r.stderr
    f.write_text("[c]\n#tryinclude nothere.conf\nexten => 2,1,Hangup()\n")
    assert _cli("show", str(f), capsys=capsys).returncode == 0


def test_dial_pad_fallback_and_state(dialplans, directory):
    dp = parse_file(dialplans / "fixed-s15.conf")
    t = dial_pad(dp, "default", "100", dtmf="#1", interactive=False, directory=directory)
    assert t.outcome == "dial"
    pad = DialPad(dp, "default", "100", directory=directory)
    assert pad.trace.outcome == "hangup"
    pad.press("#")
    assert pad.press("1").outcome == "dial"
    assert pad.clear().outcome == "hangup"
    assert "Touches" in pad._repr_html_()
    widget = dial_pad(dp, "default", "100", directory=directory)
    assert type(widget).__name__ == "VBox"


def test_cli_simulate_with_sounds(dialplans, tmp_path, capsys):
    plain = tmp_path / "sounds.json"
    plain.write_text(json.dumps({"custom/welcome": {"text": "Bienvenue", "duration": 2.5}}))
    r = _cli("simulate", str(dialplans / "fixed-s15.conf"), "--context", "default", "--exten",
             "100", "--sounds", str(plain), "--json", capsys=capsys)
    steps = json.loads(r.stdout)["steps"]
    bg = next(s for s in steps if s["app"] == "Background")
    assert (bg["prompt"], bg["duration"]) == ("Bienvenue", 2.5)
    # a toipkit TTS manifest (folder or file) works too
    folder = tmp_path / "sons"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"toipkit_tts_manifest": 1, "prompts": [
        {"name": "custom/welcome", "text": "Salut", "lang": "fr", "duration": 1.25,
         "files": {"wav": "fr/custom/welcome.wav"}, "engine": "espeak-ng"}]}))
    r = _cli("simulate", str(dialplans / "fixed-s15.conf"), "--context", "default", "--exten",
             "100", "--sounds", str(folder), "--json", capsys=capsys)
    bg = next(s for s in json.loads(r.stdout)["steps"] if s["app"] == "Background")
    assert (bg["prompt"], bg["duration"]) == ("Salut", 1.25)


def test_show_exten_follows_includes():
    dp = parse("[a]\nexten => 1,1,NoOp()\ninclude => b\n[b]\nexten => _X,1,NoOp(b)\n"
               "exten => 9,1,NoOp()\n")
    text = dp.show("1@a")
    assert "[ Included context 'b' created by 'pbx_config' ]" in text
    assert "'_X' =>" in text and "'9' =>" not in text
    assert text.endswith("-= 2 extensions (2 priorities) in 2 contexts. =-")


def test_cli_lint_asterisk_versions_and_third_party_apps(tmp_path, capsys):
    f = tmp_path / "v.conf"
    f.write_text("[c]\nexten => s,1,Macro(x)\n same => n,AcmeBilling(1)\n same => n,Hangup()\n"
                 "[macro-x]\nexten => s,1,NoOp()\n")

    def found(*options):
        r = _cli("lint", str(f), "--lang", "en", "--json", *options, capsys=capsys)
        return r.returncode, {(x["rule"], x["severity"]) for x in json.loads(r.stdout)}

    # Default 13,22: Macro (gone in 21) is true for 22 only, a warning; AcmeBilling is no
    # Asterisk application and close to none: a third-party module's.
    assert found() == (0, {("removed-app", "warning"), ("third-party-app", "warning")})
    assert found("--asterisk", "13") == (0, {("third-party-app", "warning")})
    assert found("--asterisk", "22", "--apps", "AcmeBilling,Other") == (
        1, {("removed-app", "error")})
    r = _cli("lint", str(f), "--asterisk", "banana", capsys=capsys)
    assert r.returncode == 1 and "Traceback" not in r.stderr


def test_cli_file_name_that_is_not_utf8(tmp_path):
    # Such a name reaches Python as lone surrogates: printed back as its bytes, no traceback.
    import os

    path = os.fsencode(tmp_path) + b"/\xff.conf"
    with open(path, "wb") as fh:
        fh.write(b"[c]\nexten => 1,n,NoOp()\nexten => 2,1,Goto(x,1,1)\n")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    for args in (["lint"], ["lint", "--json"], ["show"], ["simulate", "--context", "c"]):
        r = subprocess.run([sys.executable, "-m", "toipkit.cli", "dialplan", args[0], path,
                            *args[1:]], capture_output=True, env=env)
        assert b"Traceback" not in r.stderr, r.stderr[-2000:]
        assert b"\xff.conf" in r.stdout or b"\\udcff.conf" in r.stderr
