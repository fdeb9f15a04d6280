"""Every problem of the handout's dialplans is reported at its line; fixed versions are clean."""

from __future__ import annotations

import pytest

from toipkit.dialplan import lint, parse, parse_file

# Handout line of the stored files' line 0 (file line n = handout line n + offset).
S15_OFFSET = 152
S17_OFFSET = 187

# (rule, handout line) — the rules are described in docs/dialplan.md.
S15_EXPECTED = {
    ("removed-app", 159),  # SetGlobalVar removed in 1.6
    ("sounds-path", 159),  # /var/asterisk/sounds/ is not Asterisk's sounds folder
    ("background-no-wait", 160),  # accueil: Background with nothing after it
    ("variable-unset", 160),  # ${sounds_path} only set by the missing SetGlobalVar
    ("dead-end", 162),  # i: Playback then autofallthrough hangup
    ("variable-unset", 162),
    ("t-unreachable", 163),  # no WaitExten: t never fires
    ("endless-loop", 163),  # t -> s,1 without a retry counter
    ("ivr-no-i", 165),  # menu: keys other than 1,2,3 hang up
    ("ivr-no-t", 165),
    ("background-no-wait", 166),
    ("variable-unset", 166),
    ("goto-context", 167),  # [appel] undefined
    ("goto-context", 168),  # [message] undefined
    ("goto-context", 169),  # [support] undefined
}

S17_EXPECTED = {
    ("explicit-numbering", 189),  # s,1..s,9 hand-numbered
    ("external-dependency", 191),  # googletts.agi needs Internet, perl, sox, mpg123
    ("say-language", 200), ("say-language", 204), ("say-language", 208),
    ("say-language", 212), ("say-language", 216), ("say-language", 223),
    ("goto-context", 201), ("goto-context", 205), ("goto-context", 209),  # no [default] here
    ("goto-context", 213), ("goto-context", 217),
    ("explicit-numbering", 220),
    ("goto-label-is-extension", 221),  # ?say_star = label of the current extension
    ("goto-label-is-extension", 222),  # ?say_hash
    ("goto-arguments", 224), ("goto-arguments", 228),  # Goto(ivr,say_invalid) = ext ivr
    ("goto-arguments", 232),
    ("endless-loop", 239),  # t -> s,3 forever
}


def found(findings, offset):
    return {(f.rule, f.line + offset) for f in findings}


def test_s15_every_problem_at_its_line(dialplans):
    fs = lint(parse_file(dialplans / "handout-s15.conf"))
    assert found(fs, S15_OFFSET) == S15_EXPECTED


def test_s17_every_problem_at_its_line(dialplans):
    fs = lint(parse_file(dialplans / "handout-s17-ivr.conf"))
    assert found(fs, S17_OFFSET) == S17_EXPECTED


def test_whole_handout_file(dialplans):
    """§15 and §17 in one extensions.conf, as a student would type them."""
    s15 = (dialplans / "handout-s15.conf").read_text(encoding="utf-8")
    s17 = (dialplans / "handout-s17-ivr.conf").read_text(encoding="utf-8")
    dp = parse(s15 + "\n" + s17, filename="extensions.conf")
    n15 = s15.count("\n") + 1
    fs = lint(dp)
    got = {(f.rule, f.line + (S15_OFFSET if f.line <= n15 else 188 - (n15 + 1)))
           for f in fs}
    expected = set(S15_EXPECTED)
    for rule, line in S17_EXPECTED:
        if rule == "goto-context":
            rule = "goto-extension"  # [default] exists now, but has only 100
        expected.add((rule, line))
    expected.add(("orphan-context", 188))  # nothing leads to [ivr]
    assert got == expected


def test_at_least_nine_distinct_errors(dialplans):
    errors = set()
    for name, off in (("handout-s15.conf", S15_OFFSET), ("handout-s17-ivr.conf", S17_OFFSET)):
        for f in lint(parse_file(dialplans / name)):
            if f.severity in ("error", "warning"):
                errors.add((f.rule, f.line + off))
    assert len(errors) >= 9


def test_handout_matches_seed(dialplans, handout_text):
    lines = handout_text.split("\n")
    for name, off in (("handout-s15.conf", S15_OFFSET), ("handout-s17-ivr.conf", S17_OFFSET)):
        stored = (dialplans / name).read_text(encoding="utf-8").rstrip("\n").split("\n")
        assert stored == lines[off:off + len(stored)]


@pytest.mark.parametrize("name", ["fixed-s15.conf", "fixed-s17-ivr.conf"])
def test_fixed_versions_are_clean(dialplans, directory, name):
    fs = lint(parse_file(dialplans / name), directory=directory)
    assert [f for f in fs if f.severity != "info"] == []


def test_fixed_without_directory_reports_xivo_numbers(dialplans):
    fs = lint(parse_file(dialplans / "fixed-s17-ivr.conf"))
    assert {f.rule for f in fs if f.severity == "error"} == {"goto-extension"}


def test_messages_in_both_languages(dialplans):
    dp = parse_file(dialplans / "handout-s15.conf")
    fr = lint(dp, lang="fr")
    en = lint(dp, lang="en")
    assert [(f.rule, f.line) for f in fr] == [(f.rule, f.line) for f in en]
    removed_fr = next(f for f in fr if f.rule == "removed-app")
    removed_en = next(f for f in en if f.rule == "removed-app")
    assert "n'existe plus" in removed_fr.message and "no longer exists" in removed_en.message
    assert "Set(GLOBAL(" in removed_fr.hint
    assert removed_fr.column == 14


def test_other_rules():
    dp = parse("""[default]
exten => 100,1,Answer()
exten => 100,3,Hangup()
exten => 200,2,NoOp()
exten => 300,1,Backgroud(x)
exten => 400,1,Wait,2
exten => 500,1,Macro(foo)
exten => 600,1,MeetMe(1)
exten => 700,1,Goto(nowhere,1)
exten => 800,1,Goto(100,7)
exten => 900,1,Goto(100,lab)
exten => 901,1,Playback(/var/lib/x.wav)
exten => 902,1,Goto(default, 100, 1)
include => missing
[other]
exten => _.,1,NoOp()
""")
    rules = {(f.rule, f.line) for f in lint(dp, lang="en")}
    for expected in [("priority-gap", 3), ("missing-priority-1", 4), ("unknown-app", 5),
                     ("old-syntax", 6), ("removed-app", 7), ("deprecated-app", 8),
                     ("goto-extension", 9), ("goto-priority", 10), ("goto-label", 11),
                     ("pattern-catchall", 16), ("sounds-path", 12), ("sound-extension", 12),
                     ("goto-whitespace", 13), ("include-context", 14)]:
        assert expected in rules, expected


def test_findings_frame_and_markdown(dialplans):
    fs = lint(parse_file(dialplans / "handout-s15.conf"))
    df = fs.to_frame()
    assert list(df.columns[:5]) == ["line", "column", "severity", "rule", "message"]
    assert "removed-app" in fs._repr_markdown_()


def test_goto_loop_once_per_cycle():
    dp = parse("""[c]
exten => s,1,NoOp()
 same => n,Goto(a,1)
exten => a,1,Set(X=1)
 same => n,Goto(s,1)
exten => b,1,Goto(b,1)
exten => w,1,WaitExten(3)
 same => n,Goto(w,1)
exten => g,1,GotoIf($[${X} > 1]?end,1)
 same => n,Goto(g,1)
exten => end,1,Hangup()
""")
    loops = [(f.line, f.severity) for f in lint(dp) if f.rule == "goto-loop"]
    assert loops == [(3, "error"), (6, "error")]


def test_gotoif_condition_with_ternary_is_split_outside_expression():
    dp = parse("[c]\nexten => s,1,GotoIf($[${A} ? 1 :: 0]?ok,1:ko,1)\nexten => ok,1,Hangup()\n")
    rules = {(f.rule, f.line) for f in lint(dp, lang="en")}
    assert ("goto-extension", 2) in rules  # ko does not exist; ok does
    assert sum(1 for r in rules if r[0] == "goto-extension") == 1


def test_superset_of_asterisklint(dialplans, tmp_path):
    """Every dialplan error/warning asterisklint (optional reference) reports, we report too."""
    import re
    import subprocess
    from pathlib import Path

    exe = Path(__file__).resolve().parents[2] / "benchmarks/.cache/asterisklint-venv/bin/asterisklint"
    if not exe.exists():
        pytest.skip("asterisklint not installed (see benchmarks/bench_dialplan.py)")
    for name in ("handout-s15.conf", "handout-s17-ivr.conf"):
        (tmp_path / "extensions.conf").write_text((dialplans / name).read_text(encoding="utf-8"),
                                                  encoding="utf-8")
        r = subprocess.run([str(exe), "dialplan-check", "extensions.conf"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
        theirs = {int(m.group(1)) for m in re.finditer(
            r"^extensions\.conf:(\d+) (?:E_\w+|W_DP_\w+):", r.stdout + r.stderr, re.M)}
        assert theirs, r.stdout + r.stderr
        ours = {f.line for f in lint(parse_file(dialplans / name)) if f.severity != "info"}
        assert theirs <= ours, (name, sorted(theirs - ours))


def test_rules_are_declared_objects_with_matching_texts(dialplans):
    import string

    from toipkit.dialplan import RULES
    from toipkit.dialplan.lint import SEVERITIES, Rule

    def fields(template):
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    assert len(RULES) >= 40
    for rule_id, rule in RULES.items():
        assert isinstance(rule, Rule) and rule.id == rule_id
        assert rule.severity in SEVERITIES
        # Both languages say the same thing: the same parameters, in French and English.
        assert fields(rule.message_fr) == fields(rule.message_en), rule_id
        assert fields(rule.hint_fr) == fields(rule.hint_en), rule_id
    message, hint = RULES["goto-context"].texts("en", app="Goto", ctx="nowhere")
    assert message.startswith("Goto to context [nowhere]") and "nowhere" in hint
    # Every finding names a declared rule.
    for name in ("handout-s15.conf", "handout-s17-ivr.conf"):
        for f in lint(parse_file(dialplans / name), lang="en"):
            assert f.rule in RULES and f.severity in SEVERITIES, f
