"""Fuzzing: the parser never fails with anything but DialplanSyntaxError; simulations end."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toipkit.dialplan import Dialplan, DialplanSyntaxError, lint, parse, simulate

FRAGMENTS = ["[", "]", "(", ")", "!", "+", ",", "=", "=>", ";", ";--", "--;", "\\", "\\;", "#",
             "#include", "#tryinclude", " x.conf", "exten", "same", "include", "switch",
             "ignorepat", "n", "s", "hint", "1", "2", "_X.", "_[0-9", "/", "${", "}", "$[", "\"",
             "Goto", "GotoIf", "?", ":", "Background", "\n", " ", "\t", "\r", "\ufeff", "é",
             "[general]", "[globals]", "ctx", "autofallthrough=no", "+=", "(!)", "(+)", "(a,b)"]

dialplan_like = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
any_text = st.one_of(st.text(max_size=300), dialplan_like)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_parse_gives_dialplan_or_syntax_error(text):
    try:
        dp = parse(text, filename="fuzz.conf")
    except DialplanSyntaxError as err:
        assert err.line is None or err.line >= 1
        return
    assert isinstance(dp, Dialplan)
    dp.show()
    dp.to_text()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_lenient_never_raises_and_lint_works(text):
    dp = parse(text, lenient=True)
    lint(dp)
    lint(dp, lang="en")
    dp.graph()


CTXS = ["a", "b", "c"]
EXTS = ["s", "1", "2", "i", "t", "_X", "12", "h"]


@st.composite
def app_line(draw):
    kind = draw(st.sampled_from([
        "Goto", "GotoIf", "Background", "WaitExten", "Playback", "Set", "Hangup", "Gosub",
        "Return", "Read", "Dial", "NoOp", "Wait", "agi", "SayNumber", "Bogus", "SetGlobalVar",
        "ExecIf", "Congestion"]))
    ctx = draw(st.sampled_from(CTXS))
    ext = draw(st.sampled_from(EXTS[:6]))
    prio = draw(st.sampled_from(["1", "2", "lab", "+1", "-1", "n"]))
    dest = draw(st.sampled_from([prio, f"{ext},{prio}", f"{ctx},{ext},{prio}", ""]))
    arg = {
        "Goto": dest,
        "GotoIf": f"$[${{X}} > {draw(st.integers(0, 3))}]?{dest}:{dest}",
        "Background": "menu",
        "WaitExten": str(draw(st.integers(0, 3))),
        "Playback": "hello",
        "Set": f"X=$[${{X}} + {draw(st.integers(-1, 2))}]",
        "Gosub": f"{ctx},{ext},1(x)",
        "Read": "X,,2",
        "Dial": "PJSIP/101",
        "Wait": "1",
        "agi": 'googletts.agi,"Bonjour",fr,any',
        "SayNumber": "${X}",
        "ExecIf": "$[1]?Set(X=1)",
    }.get(kind, "")
    return f"{kind}({arg})"


@st.composite
def random_dialplan(draw):
    lines = ["[globals]", "X=0"]
    for ctx in CTXS:
        lines.append(f"[{ctx}]")
        for ext in draw(st.lists(st.sampled_from(EXTS), min_size=1, max_size=5, unique=True)):
            n = draw(st.integers(1, 4))
            for i in range(n):
                label = draw(st.sampled_from(["", "(lab)"])) if i else ""
                lines.append(f"exten => {ext},{i + 1}{label},{draw(app_line())}")
    if draw(st.booleans()):
        lines.append("[general]\nautofallthrough=no")
    return "\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dialplan(),
       st.one_of(st.text(alphabet="0123456789*#", max_size=6),
                 st.lists(st.tuples(st.floats(0, 120, allow_nan=False),
                                    st.sampled_from(list("0123456789*#"))), max_size=6)),
       st.sampled_from(CTXS), st.sampled_from(["s", "1", "12", "9"]))
def test_random_simulations_end(text, dtmf, ctx, exten):
    dp = parse(text, lenient=True)
    t = simulate(dp, ctx, exten, dtmf=dtmf, max_steps=60, max_time=600)
    assert t.outcome
    # The limit counts priorities; ExecIf also records the application it runs as a step of
    # the same priority, so a path may hold up to two entries per priority (h: a few more).
    assert len(t.path) <= 2 * 60 + 20
    assert t.elapsed <= 600 + 20
    lint(dp)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dialplan())
def test_to_text_round_trip_property(text):
    dp = parse(text, lenient=True)
    again = parse(dp.to_text())
    cols = ["context", "exten", "cid", "priority", "label", "app", "data"]
    assert dp.to_frame()[cols].equals(again.to_frame()[cols])
    assert again.autofallthrough == dp.autofallthrough
