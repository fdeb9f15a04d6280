"""Simulated calls give Asterisk's outcome (semantics in docs/dialplan.md)."""

from __future__ import annotations

import pytest

from toipkit.dialplan import DirectoryEntry, Sound, parse, parse_file, simulate

KEYS = list("0123456789*#")


def tts(text, lang):
    return 0.1 * len(text)


@pytest.fixture
def buggy_ivr(dialplans):
    return parse_file(dialplans / "handout-s17-ivr.conf")


@pytest.fixture
def fixed_ivr(dialplans):
    return parse_file(dialplans / "fixed-s17-ivr.conf")


# --- buggy [ivr] (handout §17) -----------------------------------------------------------------

BUGGY_LAST = {
    "1": "1@ivr:2", "2": "2@ivr:2", "3": "3@ivr:2", "4": "4@ivr:2", "5": "5@ivr:2",
    "0": "0@ivr:5", "6": "6@ivr:5", "7": "7@ivr:5", "8": "8@ivr:5", "9": "9@ivr:5",
    "*": "*@ivr:2", "#": "#@ivr:3",
}


@pytest.mark.parametrize("key", KEYS)
def test_buggy_ivr_each_key_hangs_up(buggy_ivr, key):
    t = simulate(buggy_ivr, "ivr", "s", dtmf=key, tts_duration=tts, lang="en")
    assert t.outcome == "hangup"
    # The key interrupts the first googletts prompt: SET EXTENSION <key>, SET PRIORITY 1.
    assert t.path[:4] == ["s@ivr:1", "s@ivr:2", "s@ivr:3", f"{key}@ivr:1"]
    assert t.path[-1] == BUGGY_LAST[key]
    if key in "12345":
        assert "sent to invalid extension but no invalid handler" in t.reason
    elif key in "*#":
        label = "say_star" if key == "*" else "say_hash"
        assert f"Priority '{label}' must be a number > 0, or valid label" in t.reason
    else:
        assert "Priority 'say_invalid' must be a number > 0" in t.reason
        assert "extension ivr" in t.reason


def test_buggy_ivr_key_1_with_xivo_directory_rings_group(buggy_ivr, directory):
    t = simulate(buggy_ivr, "ivr", "s", dtmf="1", directory=directory, lang="en")
    assert t.outcome == "dial"
    assert t.target == "group accueil (201): 101 (Geralt Deriv), 102 (Judy Alvarez)"


def test_buggy_ivr_timeout_loops_forever(buggy_ivr):
    t = simulate(buggy_ivr, "ivr", "s", dtmf="", tts_duration=tts, max_steps=200)
    assert t.outcome == "step-limit"
    assert t.path.count("t@ivr:1") >= 10
    # WaitExten() uses TIMEOUT(response)=20 set at s,2.
    wait = next(s for s in t.steps if s.app == "WaitExten")
    assert wait.duration == 20


def test_buggy_ivr_key_after_prompts(buggy_ivr):
    """A key pressed during WaitExten, after all the prompts."""
    t = simulate(buggy_ivr, "ivr", "s", dtmf=[(30.0, "2")], tts_duration=tts, lang="en")
    wait = next(s for s in t.steps if s.app == "WaitExten")
    prompts = sum(s.duration for s in t.steps if s.app == "agi")
    assert wait.start == pytest.approx(prompts)
    assert wait.elapsed == pytest.approx(30.0) and wait.digits == "2"
    assert t.outcome == "hangup" and t.path[-1] == "2@ivr:2"


# --- fixed [ivr] ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key,target", [
    ("1", "group accueil (201): 101 (Geralt Deriv), 102 (Judy Alvarez)"),
    ("2", "group technique (200): 103 (Panam Palmer)"),
    ("3", "group support (202): 103 (Panam Palmer)"),
    ("4", "group communication (203): 104 (Evelyn Parker)"),
    ("5", "105 (Hanako Arasaka)"),
])
def test_fixed_ivr_menu_keys_ring(fixed_ivr, directory, key, target):
    t = simulate(fixed_ivr, "ivr", "s", dtmf=key, directory=directory, lang="en")
    assert (t.outcome, t.target) == ("dial", target)


@pytest.mark.parametrize("key", list("06789*#"))
def test_fixed_ivr_invalid_keys_return_to_menu(fixed_ivr, directory, key):
    t = simulate(fixed_ivr, "ivr", "s", dtmf=key, directory=directory, tts_duration=tts)
    assert "say_invalid@ivr:1" in t.path
    after = t.path[t.path.index("say_invalid@ivr:2") + 1]
    assert after == "s@ivr:5"  # back to the label "menu"
    if key == "*":
        assert "say_star@ivr:1" in t.path
    if key == "#":
        assert "say_hash@ivr:1" in t.path
    # then the caller stays silent: three timeouts and goodbye
    assert t.outcome == "hangup" and t.path[-1] == "fin@ivr:2"
    assert t.path.count("t@ivr:1") == 3


def test_fixed_ivr_timeout_three_tries(fixed_ivr):
    t = simulate(fixed_ivr, "ivr", "s", dtmf="", tts_duration=tts)
    assert t.outcome == "hangup"
    assert t.path.count("t@ivr:1") == 3 and t.path[-1] == "fin@ivr:2"
    prompts = sum(s.duration for s in t.steps if s.app == "agi")
    assert t.elapsed == pytest.approx(prompts + 3 * 20)


def test_fixed_ivr_without_directory_hangs_up(fixed_ivr):
    t = simulate(fixed_ivr, "ivr", "s", dtmf="1")
    assert t.outcome == "hangup" and t.path[-1] == "1@ivr:2"


# --- §15 circuit ---------------------------------------------------------------------------------

def test_buggy_circuit_ends_at_setglobalvar(dialplans):
    dp = parse_file(dialplans / "handout-s15.conf")
    t = simulate(dp, "default", "100", dtmf="#1", lang="en")
    assert t.outcome == "hangup"
    assert t.path == ["100@default:1", "100@default:2", "100@default:3", "s@accueil:1"]
    assert "No application 'SetGlobalVar' for extension (accueil, s, 1)" in t.reason
    assert t.elapsed == 4.0


def test_circuit_without_setglobalvar_still_fails(dialplans):
    """Even with SetGlobalVar replaced, no WaitExten: the call ends after the prompt."""
    text = (dialplans / "handout-s15.conf").read_text(encoding="utf-8")
    dp = parse(text.replace("SetGlobalVar(sounds_path=/var/asterisk/sounds/)",
                            "Set(GLOBAL(sounds_path)=custom/)"))
    t = simulate(dp, "default", "100", dtmf="", sounds={"custom/welcome": Sound("Bienvenue", 2.5)},
                 lang="en")
    assert t.outcome == "hangup" and "autofallthrough" in t.reason
    assert t.elapsed == pytest.approx(6.5)
    # '#' during the welcome: menu, then '1' during the menu prompt -> [appel] is missing
    t = simulate(dp, "default", "100", dtmf="#1", lang="en")
    assert t.path[-1] == "1@menu:1" and "context [appel] does not exist" in t.reason
    # an invalid key in [menu]: no i
    t = simulate(dp, "default", "100", dtmf="#5", lang="en")
    assert "Invalid extension '5', but no rule 'i' or 'e' in context 'menu'" in t.reason
    # invalid key in [accueil]: i plays the error prompt then falls off the end
    t = simulate(dp, "default", "100", dtmf="5", lang="en")
    assert t.path[-1] == "i@accueil:1" and "autofallthrough" in t.reason


def test_fixed_circuit_flows(dialplans, directory):
    dp = parse_file(dialplans / "fixed-s15.conf")
    sounds = {"custom/welcome": Sound("Bienvenue chez Arasaka", 3.2),
              "custom/menu": Sound("Tapez 1, 2 ou 3", 4.0),
              "custom/erreur-saisie": Sound("Erreur de saisie", 1.5),
              "vm-goodbye": Sound("Au revoir", 1.0)}
    t = simulate(dp, "default", "100", dtmf="#1", directory=directory, sounds=sounds, lang="en")
    assert t.outcome == "dial" and t.target == "101 (Geralt Deriv), 102 (Judy Alvarez)"
    # listen to the whole welcome, then press # during WaitExten, then 1 during the menu
    t = simulate(dp, "default", "100", dtmf=[(9.0, "#"), (10.0, "1")], directory=directory,
                 sounds=sounds, lang="en")
    bg = next(s for s in t.steps if s.app == "Background")
    assert bg.prompt == "Bienvenue chez Arasaka" and bg.elapsed == pytest.approx(7.2)
    assert t.outcome == "dial" and t.elapsed == pytest.approx(10.0)
    # invalid key: error prompt, back to the menu
    t = simulate(dp, "default", "100", dtmf="#9", directory=directory, sounds=sounds)
    assert "i@menu:1" in t.path and t.path[t.path.index("i@menu:2") + 1] == "s@menu:2"
    # silent caller: three timeouts and goodbye
    t = simulate(dp, "default", "100", dtmf="", sounds=sounds)
    assert t.outcome == "hangup" and t.path.count("t@accueil:1") == 3
    assert t.elapsed == pytest.approx(4 + 3 * (3.2 + 5) + 1.0)
    # missing sound file: Background fails and continues
    t = simulate(dp, "default", "100", dtmf="", sounds={})
    assert "BACKGROUNDSTATUS=FAILED" in next(s for s in t.steps if s.app == "Background").outcome


# --- semantics details -----------------------------------------------------------------------------

def test_keys_pressed_while_nobody_listens_are_lost():
    dp = parse("[c]\nexten => s,1,Wait(5)\n same => n,WaitExten(3)\nexten => 1,1,Hangup()\n"
               "exten => t,1,Busy()\n")
    t = simulate(dp, "c", "s", dtmf=[(1.0, "1")], lang="en")
    assert t.outcome == "busy" and "keys lost" in t.reason
    t = simulate(dp, "c", "s", dtmf=[(6.0, "1")])
    assert t.path[-1] == "1@c:1"


def test_multi_digit_collection_and_digit_timeout():
    dp = parse("""[c]
exten => s,1,Set(TIMEOUT(digit)=2)
 same => n,WaitExten(10)
exten => 1,1,Hangup()
exten => 12,1,Busy()
exten => 123,1,Congestion()
""")
    assert simulate(dp, "c", "s", dtmf="123").outcome == "congestion"
    t = simulate(dp, "c", "s", dtmf="12")  # waits TIMEOUT(digit) for a third digit
    assert t.outcome == "busy" and t.elapsed == 2.0
    t = simulate(dp, "c", "s", dtmf=[(1, "1"), (4, "2")])  # 2nd digit too late
    assert t.outcome == "hangup" and t.elapsed == 3.0


def test_autofallthrough_no_waits_for_digits():
    dp = parse("[general]\nautofallthrough=no\n[c]\nexten => s,1,Answer()\n"
               "exten => t,1,Busy()\nexten => 5,1,Congestion()\n")
    t = simulate(dp, "c", "s", dtmf="")
    assert t.outcome == "busy" and t.elapsed == 10.0
    assert simulate(dp, "c", "s", dtmf="5").outcome == "congestion"


def test_gosub_return_read_and_expressions():
    dp = parse("""[c]
exten => s,1,Gosub(sub,s,1(21))
 same => n,GotoIf($[${GOSUB_RETVAL} = 42]?ok,1:ko,1)
exten => ok,1,Read(CODE,,4)
 same => n,GotoIf($["${CODE}" = "1234"]?good,1)
 same => n,Hangup()
exten => good,1,Dial(PJSIP/101)
exten => ko,1,Busy()
[sub]
exten => s,1,Return($[${ARG1} * 2])
""")
    t = simulate(dp, "c", "s", dtmf="1234", directory={"101": DirectoryEntry("user", "Geralt")},
                 lang="en")
    assert t.outcome == "dial" and t.target == "101 (Geralt)"
    assert simulate(dp, "c", "s", dtmf="9999").outcome == "hangup"


def test_h_extension_runs_after_hangup():
    dp = parse("[c]\nexten => s,1,Hangup()\nexten => h,1,NoOp(bye)\n")
    t = simulate(dp, "c", "s")
    assert t.path == ["s@c:1", "h@c:1"] and t.outcome == "hangup"


def test_unknown_app_ends_call_known_app_skipped():
    dp = parse("[c]\nexten => s,1,MixMonitor(x.wav)\n same => n,UserEvent(x)\n"
               " same => n,Backgroud(x)\n")
    t = simulate(dp, "c", "s", lang="en")
    assert t.path == ["s@c:1", "s@c:2", "s@c:3"]
    assert t.steps[2].outcome == "not simulated, skipped"
    assert "unknown to Asterisk" in t.reason


def test_trace_renderings(buggy_ivr):
    t = simulate(buggy_ivr, "ivr", "s", dtmf="1")
    df = t.to_frame()
    assert list(df["app"])[1:4] == ["Answer", "Set", "agi"]
    html = t._repr_html_()
    assert "mathjax_ignore" in html and "<th" in html
    assert "<code>Answer()</code>" in html
    assert 'Executing [s@ivr:1] Answer("SIP/sim-00000001", "")' in t.verbose()
    assert str(t).startswith("Appel s@ivr : raccroché")


def test_trace_table_escapes_what_markdown_would_typeset():
    """``$`` (variables, expressions) and ``<``/``|`` stay text in the trace table."""
    dp = parse("[t]\nexten => s,1,NoOp(de 5$ à 6$ | <x>)\n same => n,Hangup()\n")
    html = simulate(dp, "t", "s")._repr_html_()
    assert "tex2jax_ignore" in html
    assert "&lt;x&gt;" in html and "<x>" not in html
    assert "NoOp(de 5$ à 6$ | &lt;x&gt;)" in html


def test_timed_include_and_gotoiftime():
    import datetime as dt

    dp = parse("""[in]
include => jour,9:00-17:00,mon-fri,*,*
include => nuit
exten => s,1,GotoIfTime(9:00-17:00,mon-fri,*,*?ouvert,1:ferme,1)
exten => ouvert,1,Dial(PJSIP/101)
exten => ferme,1,VoiceMail(101@default)
[jour]
exten => 0,1,Dial(PJSIP/101)
[nuit]
exten => 0,1,VoiceMail(101@default)
""")
    monday_10h = dt.datetime(2026, 11, 23, 10, 0)
    sunday = dt.datetime(2026, 11, 29, 10, 0)
    assert simulate(dp, "in", "0", now=monday_10h).outcome == "dial"
    assert simulate(dp, "in", "0", now=sunday).outcome == "voicemail"
    assert simulate(dp, "in", "s", now=monday_10h).outcome == "dial"
    assert simulate(dp, "in", "s", now=sunday).outcome == "voicemail"


def test_dial_status_continues_to_voicemail():
    dp = parse("[c]\nexten => s,1,Dial(PJSIP/101,15)\n same => n,VoiceMail(101@default,u)\n")
    t = simulate(dp, "c", "s", dial_status="NOANSWER")
    assert t.outcome == "voicemail" and t.elapsed == 15.0
    assert t.variables["DIALSTATUS"] == "NOANSWER"


def test_directory_entries_from_the_sandbox_shape():
    dp = parse("[c]\nexten => s,1,Goto(default,201,1)\nexten => 9,1,Goto(default,0800,1)\n")
    directory = {
        "201": {"kind": "group", "context": "default", "exten": "201", "name": "accueil",
                "members": ["101", "102"], "label": "ring group accueil: 101, 102"},
        "101": {"kind": "user", "name": None, "members": []},
        "0800@default": {"kind": "incall", "name": None, "members": [],
                         "label": "incoming call → group accueil"},
    }
    t = simulate(dp, "c", "s", directory=directory, lang="en")
    assert t.target == "group accueil (201): 101, 102"
    t = simulate(dp, "c", "9", directory=directory, lang="en")
    assert (t.outcome, t.target) == ("incall", "0800: incoming call → group accueil")
    assert DirectoryEntry.coerce(DirectoryEntry("user", "X")).name == "X"


def test_agi_intkey_subset_and_e_extension():
    dp = parse("""[c]
exten => s,1,agi(googletts.agi,"Tapez 1",fr,1)
 same => n,WaitExten(2)
exten => 1,1,Hangup()
exten => e,1,Busy()
""")
    # '2' during the prompt is ignored (not an interrupt key), then 2 s of silence -> e
    t = simulate(dp, "c", "s", dtmf=[(0.1, "2")], tts_duration=lambda text, lang: 1.0,
                 lang="en")
    assert t.outcome == "busy" and t.elapsed == 3.0 and "keys lost" in t.reason
    t = simulate(dp, "c", "s", dtmf="1", tts_duration=lambda text, lang: 1.0)
    assert t.path[-1] == "1@c:1"
    t = simulate(dp, "c", "s", dtmf=[(1.5, "7")], tts_duration=lambda text, lang: 1.0)
    assert t.outcome == "busy" and t.path[-1] == "e@c:1"  # invalid key, no i -> e


def test_time_lengths_with_units():
    dp = parse("[c]\nexten => s,1,Wait(500ms)\n same => n,WaitExten(2s)\nexten => t,1,Hangup()\n")
    t = simulate(dp, "c", "s")
    assert t.elapsed == 2.5


def test_background_stops_at_first_missing_file_and_needs_an_argument():
    dp = parse("[c]\nexten => s,1,Background(a&missing&b)\n same => n,WaitExten(1)\n"
               "exten => t,1,Hangup()\nexten => x,1,Background()\n")
    t = simulate(dp, "c", "s", sounds={"a": Sound("A", 1.0), "b": Sound("B", 1.0)})
    assert t.elapsed == 2.0  # 'a' then stop (b is never played), then WaitExten(1)
    assert t.variables["BACKGROUNDSTATUS"] == "FAILED"
    t = simulate(dp, "c", "x", lang="en")
    assert t.outcome == "hangup" and "requires an argument" in t.reason
