"""from_dialplan on the handout's [ivr]: one sound per distinct text, same control flow."""

from __future__ import annotations

import shutil
import wave

import pytest

from toipkit.dialplan import parser
from toipkit.tts import Manifest, find_tts_calls, from_dialplan, read_sound
from toipkit.tts.ivr import parse_tts_args

ALL_FORMATS = ["wav", "wav16", "sln", "sln16", "ulaw", "alaw"] + \
    (["gsm"] if shutil.which("sox") else [])
RATES = {"wav": 8000, "wav16": 16000, "sln": 8000, "sln16": 16000, "ulaw": 8000, "alaw": 8000,
         "gsm": 8000}


@pytest.fixture(scope="module")
def rendered(handout_ivr, tmp_path_factory):
    out = tmp_path_factory.mktemp("sounds")
    original = parser.parse(handout_ivr, "extensions.conf")
    return original, from_dialplan(original, out, formats=ALL_FORMATS), out


def test_one_sound_per_distinct_text(rendered):
    original, result, out = rendered
    texts = {c.text for c in find_tts_calls(original)}
    assert len(texts) == len(find_tts_calls(original)) == 9
    assert len(result.manifest) == len(texts)
    assert {e.text for e in result.manifest.values()} == texts
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert len(files) == len(texts) * len(ALL_FORMATS) + 1  # + manifest.json
    assert all(f.startswith("fr/custom/ivr-") for f in files if f != "manifest.json")
    assert Manifest.load(out).to_dict() == result.manifest.to_dict()


def test_every_generated_file_reads_back(rendered):
    _, result, _ = rendered
    for entry in result.manifest.values():
        for fmt in ALL_FORMATS:
            path = entry.path(fmt)
            if fmt in ("wav", "wav16"):
                with wave.open(str(path)) as w:
                    assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == \
                        (1, 2, RATES[fmt]), path
            audio = read_sound(path)
            assert audio.rate == RATES[fmt]
            per_char = audio.duration / len(entry.text)
            assert 0.04 < per_char < 0.2 or audio.duration < 1.2, (path, audio.duration)
            assert audio.duration == pytest.approx(entry.duration, abs=0.025), path
            assert audio.rms_dbfs > -30, (path, audio.rms_dbfs)


def test_g711_prompts_decode_back_to_the_wav_within_quantisation(rendered):
    import numpy as np

    _, result, _ = rendered
    for entry in result.manifest.values():
        pcm = read_sound(entry.path("wav")).samples.astype(np.int64)
        bound = np.maximum(np.abs(pcm) / 16, 16) + 8   # one segment step (+ grid reduction)
        for law in ("ulaw", "alaw"):
            decoded = read_sound(entry.path(law)).samples.astype(np.int64)
            assert decoded.shape == pcm.shape, (entry.name, law)
            assert np.all(np.abs(decoded - pcm) <= bound), (entry.name, law)
        wide = read_sound(entry.path("sln16"))
        assert abs(wide.duration - len(pcm) / 8000) < 0.002


def test_rewrite_changes_only_the_agi_steps(rendered):
    original, result, _ = rendered
    before = {(p.context, p.exten, p.number, p.label): p for p in original.priorities}
    after = {(p.context, p.exten, p.number, p.label): p for p in result.dialplan.priorities}
    assert before.keys() == after.keys()
    for key, p in before.items():
        q = after[key]
        if p.app.lower() == "agi":
            assert q.app == "Background"  # intkey "any": a key may interrupt
            assert q.data in result.manifest
            assert result.manifest[q.data].text == p.args[1]
        else:
            assert (q.app, q.data) == (p.app, p.data)
    # the input is left as it was
    assert sum(p.app.lower() == "agi" for p in original.priorities) == 9


def _path(trace):
    return [(s.context, s.exten, s.priority, s.app.lower() == "agi" or s.app == "Background")
            for s in trace.steps if s.kind == "app"]


@pytest.mark.parametrize("keys", ["", "1", "2", "3", "4", "5", "0", "6", "9", "*", "#", "12"])
def test_simulator_takes_the_same_branches(rendered, keys):
    simulate = pytest.importorskip("toipkit.dialplan.simulate").simulate
    from toipkit.tts import tts_duration

    original, result, _ = rendered
    a = simulate(original, "ivr", "s", dtmf=keys, tts_duration=tts_duration, max_steps=60)
    b = simulate(result.dialplan, "ivr", "s", dtmf=keys, sounds=result.manifest, max_steps=60)
    assert _path(a) == _path(b)
    assert (a.outcome, a.target) == (b.outcome, b.target)
    assert a.elapsed == pytest.approx(b.elapsed, abs=0.05)
    # the rewritten call reports what each prompt says and its real duration
    played = [s for s in b.steps if s.app == "Background"]
    for step in played:
        entry = result.manifest[step.args]
        assert step.prompt == entry.text or step.digits


def test_rewritten_dialplan_round_trips_and_lints(rendered):
    original, result, _ = rendered
    dialplan = pytest.importorskip("toipkit.dialplan")
    if not hasattr(result.dialplan, "to_text"):
        pytest.skip("Dialplan.to_text not available yet")
    try:
        text = result.dialplan.to_text()
    except ImportError:
        pytest.skip("dialplan renderer not available yet")
    again = parser.parse(text, "rewritten.conf")
    assert [(p.context, p.exten, p.number, p.app, p.data) for p in again.priorities] == \
        [(p.context, p.exten, p.number, p.app, p.data) for p in result.dialplan.priorities]
    lint = getattr(dialplan, "lint", None)
    if lint is None:
        pytest.skip("dialplan.lint not available yet")

    def errors(dp):
        return {(f.rule, f.context, f.exten) for f in lint(dp) if f.severity == "error"}

    assert errors(again) <= errors(original)
    assert errors(result.dialplan) <= errors(original)


def test_args_follow_googletts_rules():
    assert parse_tts_args(["googletts.agi", "Bonjour", "fr", "any"]) == \
        ("Bonjour", "fr", "0123456789*#", 1.0)
    assert parse_tts_args(["/usr/share/asterisk/agi-bin/googletts.agi", "Hi", "", "12x", "1.5"]) \
        == ("Hi", "en", "12", 1.5)
    assert parse_tts_args(["googletts.agi", "x", "french"])[1] == "en"
    assert parse_tts_args(["other.agi", "x"]) is None


def test_playback_when_not_interruptible_and_dynamic_text_kept(tmp_path):
    text = """\
[demo]
exten => s,1,agi(googletts.agi,"Merci de patienter",fr)
 same => n(menu),agi(googletts.agi,"Tapez 1 ou 2",fr,12,1.2)
 same => n,agi(googletts.agi,"Vous avez composé ${EXTEN}",fr,any)
 same => n,agi(googletts.agi,"Merci de patienter",fr,any)
 same => n,agi(googletts.agi,"Thank you",en,)
 same => n,WaitExten(5)
"""
    result = from_dialplan(text, tmp_path, formats=["sln"], prefix="")
    steps = {p.number: p for p in result.dialplan["demo"].extension("s").steps()}
    assert (steps[1].app, steps[1].data) == ("Playback", "custom/merci-de-patienter")
    assert (steps[2].app, steps[2].label) == ("Background", "menu")
    assert "any key" in result.calls[1].note
    assert steps[3].app.lower() == "agi"                      # ${EXTEN}: left as is
    assert "variables" in result.calls[2].reason
    assert (steps[4].app, steps[4].data) == ("Background", "custom/merci-de-patienter")
    assert steps[5].data == "custom/thank-you"
    assert (tmp_path / "en/custom/thank-you.sln").exists()
    assert result.calls[1].rate == 210                         # speed 1.2 × 175 wpm
    assert len(result.manifest) == 3
    frame = result.to_frame()
    assert list(frame["keys"]) == ["-", "12", "0123456789*#", "0123456789*#", "-"]


def test_patched_text_keeps_comments_and_layout(tmp_path, handout_ivr):
    conf = tmp_path / "extensions.conf"
    conf.write_text(handout_ivr, encoding="utf-8")
    result = from_dialplan(conf, tmp_path / "sounds", formats=["ulaw"])
    patched = result.patched_text()
    before, after = handout_ivr.split("\n"), patched.split("\n")
    assert len(before) == len(after)
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert [i + 1 for i in changed] == sorted(c.line for c in result.calls)
    for i in changed:
        assert "googletts" in before[i] and "Background(custom/ivr-" in after[i]
    assert "; ######## CHOIX 1 : Accueil ########" in patched
    again = parser.parse(patched, "patched.conf")
    assert [(p.context, p.exten, p.number, p.app, p.data) for p in again.priorities] == \
        [(p.context, p.exten, p.number, p.app, p.data) for p in result.dialplan.priorities]
    # a parsed Dialplan plus its text gives the same result; comments after the call are kept
    text = handout_ivr.replace('tapez 1.",fr,any)', 'tapez 1.",fr,any) ; accueil')
    result2 = from_dialplan(parser.parse(text, "x.conf"), tmp_path / "sounds", formats=["ulaw"])
    assert "Background(custom/ivr-pour-joindre-l-accueil-tapez-1) ; accueil" in \
        result2.patched_text(text)


def test_from_dialplan_refuses_other_objects_in_french(tmp_path):
    from toipkit.errors import TTSError

    with pytest.raises(TTSError, match="^from_dialplan attend un Dialplan, .* pas int$"):
        from_dialplan(42, tmp_path / "sons")
