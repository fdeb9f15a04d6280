"""Linter findings on constructs of real dialplans (Asterisk's samples and test suite, XiVO's
dialplan): each false alarm found there is a regression test here, and the real bugs stay
found. The corpus test at the end runs over ``../shared/corpus`` when it is present."""

from __future__ import annotations

from pathlib import Path

import pytest

from toipkit.dialplan import lint, parse, parse_file
from toipkit.dialplan.catalog import DEFAULT_VERSIONS, app_versions, has_app, parse_versions


def _errors(dp, **kw):
    return [(f.rule, f.line) for f in lint(dp, lang="en", **kw) if f.severity == "error"]


def _rules(dp, **kw):
    return {(f.rule, f.line, f.severity) for f in lint(dp, lang="en", **kw)}


# -- the application catalogue ---------------------------------------------------------------
def test_catalogue_knows_the_applications_the_testsuite_uses():
    for app in ("If", "ElseIf", "Else", "EndIf", "ExitIf", "AgentLogin", "AgentRequest",
                "ReceiveMF", "ReceiveSF", "SendSF", "PJSIPNotify", "StasisBroadcast", "Reload",
                "WaitForTone"):
        assert app_versions(app), app
    assert "13" in app_versions("Macro") and "22" not in app_versions("Macro")
    assert "13" not in app_versions("If") and "22" in app_versions("If")
    assert has_app("Dial", "13,22") and not has_app("Macro", 22)
    assert parse_versions(None) == DEFAULT_VERSIONS
    assert parse_versions("19") == ("18",) and parse_versions("20.7") == ("20",)
    with pytest.raises(ValueError):
        parse_versions("banana")


def test_new_applications_are_not_typos():
    dp = parse("[c]\nexten => s,1,If($[1])\n same => n,EndIf()\n same => n,ReceiveMF(d)\n"
               " same => n,Hangup()\n")
    assert _errors(dp, asterisk=22) == []
    # Missing from Asterisk 13 only: a warning tagged with the version it holds for.
    found = [f for f in lint(dp, lang="en") if f.rule == "app-version"]
    assert [f.line for f in found] == [2, 3, 4]
    assert {(f.severity, f.versions) for f in found} == {("warning", "13")}
    assert _errors(dp, asterisk=13) == [("app-version", 2), ("app-version", 3),
                                        ("app-version", 4)]


def test_macro_is_an_error_only_where_it_is_gone():
    dp = parse("[c]\nexten => s,1,Macro(x)\n same => n,Hangup()\n[macro-x]\n"
               "exten => s,1,NoOp()\n")
    assert _errors(dp, asterisk=13) == []
    assert _errors(dp, asterisk=21) == [("removed-app", 2)]
    (f,) = [f for f in lint(dp) if f.rule == "removed-app"]
    assert f.severity == "warning" and f.versions == "22" and "Asterisk 22" in f.message
    assert "removed-app" in _rules(parse("; toipkit: asterisk=22\n" + "[c]\n"
                                         "exten => s,1,Macro(x)\n")).__str__()


def test_typo_is_an_error_and_unknown_names_are_third_party():
    dp = parse("[c]\nexten => s,1,Hangip()\n same => n,Backgroud(x)\n"
               " same => n,AcmeBilling(1)\n")
    found = lint(dp, lang="en")
    typos = [(f.line, f.severity) for f in found if f.rule == "unknown-app"]
    assert typos == [(2, "error"), (3, "error")]
    assert "Hangup" in next(f.hint for f in found if f.line == 2)
    assert [(f.line, f.severity) for f in found if f.rule == "third-party-app"] == [
        (4, "warning")]


def test_third_party_applications_can_be_declared():
    text = "[c]\nexten => s,1,AcmeBilling(1)\n same => n,Hangup()\n"
    assert "third-party-app" not in lint(parse(text), apps=["acmebilling"]).rules()
    assert "third-party-app" not in lint(parse("; toipkit: apps=AcmeBilling,Other\n" + text)
                                         ).rules()


# -- extensions entered otherwise than at priority 1 ------------------------------------------
def test_extension_entered_by_a_gosub_label_needs_no_priority_1():
    # configs/samples/extensions.conf.sample: exten => _X.,50000(stdexten),NoOp(...)
    dp = parse("""[default]
exten => 100,1,Gosub(stdexten,${EXTEN},stdexten(PJSIP/100))
[stdexten]
exten => _X.,50000(stdexten),NoOp(Start stdexten)
 same => n,Return()
""")
    assert _errors(dp) == []


def test_priority_2_from_a_less_specific_pattern_is_no_gap():
    # testsuite: exten => bob-ipv4-udp,1,Dial(...) then exten => _bob.,2,UserEvent(AfterDial)
    dp = parse("""[default]
exten => bob-ipv4-udp,1,Dial(PJSIP/bob-ipv4-udp)
exten => _[ab].,2,NoOp()
 same => n,Hangup()
exten => alice,1,NoOp()
""")
    assert _errors(dp) == []
    # A real missing priority 1 (extensions_minivm.conf.sample's `minivm,n` typo) stays.
    dp = parse("[c]\nexten => s,1,Set(a=1)\nexten => minivm,n,Verbose(1,x)\n")
    assert ("missing-priority-1", 3) in _errors(dp)


def test_parking_contexts_are_created_at_run_time():
    dp = parse("""[default]
include => parkedcalls
exten => 700,1,Goto(parkedcalls,701,1)
[park-dial]
exten => SIP_alice,2,NoOp()
""")
    assert _errors(dp) == []
    dp = parse("; toipkit: contexts=from-ami\n[c]\ninclude => from-ami\ninclude => missing\n")
    assert _errors(dp) == [("include-context", 4)]


def test_jump_destinations_with_substitutions_are_not_split():
    dp = parse("""[c]
exten => _9X.,1,Goto(out,${EXTEN:1},1)
 same => n,GotoIf($[${LEN(${EXTEN:1})}>3]?out,${EXTEN:1},1:c,s,1)
 same => n,GoSubIf(${ANON}?hook,s,1(set-anonymous))
exten => s,1,Hangup()
[out]
exten => _X.,1,Hangup()
[hook]
exten => s,1,Return()
""")
    assert _errors(dp) == []


def test_if_blocks_stop_the_goto_loop_rule():
    dp = parse("""[c]
exten => s,1,NoOp()
 same => n(after),NoOp()
 same => n,If(0)
 same => n,Goto(after)
 same => n,EndIf()
 same => n,Hangup()
""")
    assert "goto-loop" not in lint(dp).rules()


def test_real_bugs_are_still_found():
    # configs/basic-pbx: Goto(operator,1) in a context without an operator extension
    dp = parse("[External-Features]\nexten => 0,1,Goto(operator,1)\n[Dialing]\n"
               "exten => operator,1,Dial(PJSIP/1101)\n")
    assert _errors(dp) == [("goto-extension", 2)]
    # the sample's Gosub(page,s,1): [page] only has _X.
    dp = parse("[c]\nexten => 7999,1,Gosub(page,s,1(SIP/x))\n[page]\n"
               "exten => _X.,1,Page(x)\n")
    assert _errors(dp) == [("goto-extension", 2)]
    # XiVO's extensions_lib_outcall.conf: a GotoIf condition without $[ ] (and a stray '}'):
    # pbx_checkcondition (main/pbx.c) reads no leading number from '"..."', so any text is
    # true and the jump is always taken.
    dp = parse('[outcall]\nexten = CLOSED,1,NoOp()\n'
               'same  =        n,GotoIf("${GOSUB_RETVAL}" == "apppwd::pass"}?s,postschedule)\n'
               "same  =        n,Hangup()\nexten => s,1,NoOp()\n same => n(postschedule),Hangup()\n")
    assert _errors(dp) == [("condition-not-expression", 3)]
    # extensions_minivm.conf.sample: `exten => minivm,n` meant `s,n`: minivm has no priority
    # 1 and s stops after priority 1; `gotoif(...?sendvmcleanup,1))` jumps to label '1)'.
    dp = parse("[m]\nexten => s,1,Set(account=x)\nexten => minivm,n,Verbose(1,x)\n"
               "exten => s,n,Verbose(1,y)\nexten => s,n,Hangup()\n"
               "exten => sendvmcleanup,1,Hangup()\n"
               "exten => h,1,GotoIf($[${MINIVM_RECORD_STATUS} = SUCCESS]?sendvmcleanup,1))\n")
    assert _errors(dp) == [("missing-priority-1", 3), ("priority-gap", 4), ("goto-label", 7)]


# -- variables ---------------------------------------------------------------------------------
def test_variables_set_by_local_array_set_function_and_applications():
    dp = parse("""[c]
exten => s,1,Set(LOCAL(a)=1)
 same => n,Set(ARRAY(b,__c)=2,3)
 same => n,NoOp(${SET(d=4)})
 same => n,ExecIf($[1]?Set(e=5))
 same => n,Read(f,beep)
 same => n,Record(x.wav)
 same => n,ChanIsAvail(PJSIP/1)
 same => n,Set(PUSH(__g)=1)
 same => n,Set(UNSHIFT(h,|)=2)
 same => n,NoOp(${a}${b}${c}${d}${e}${f}${g}${h}${RECORDED_FILE}${AVAILSTATUS}${ARGC})
 same => n,NoOp(${never})
""")
    unset = [f.message for f in lint(dp, lang="en") if f.rule == "variable-unset"]
    assert len(unset) == 1 and "${never}" in unset[0]


def test_variables_after_an_agi_are_unknown_not_unset():
    dp = parse("[c]\nexten => s,1,AGI(lookup.agi)\n same => n,Dial(${TARGET})\n"
               "[d]\nexten => s,1,Dial(${TARGET})\n")
    assert [f.context for f in lint(dp) if f.rule == "variable-unset"] == ["d"]


# -- the corpus ---------------------------------------------------------------------------------
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "asterisk-testsuite"

# Error findings that were false alarms on Asterisk's own test suite before: none may come back.
FALSE_CLASSES = {"include-context", "missing-priority-1", "priority-gap", "goto-loop"}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus not present")
def test_asterisk_testsuite_corpus():
    files = sorted(CORPUS.rglob("extensions*.conf"))
    assert len(files) > 1000
    errors: list[str] = []
    for path in files:
        dp = parse_file(path, lenient=True)  # never raises: every file loads
        for f in lint(dp, lang="en", asterisk=22):
            if f.severity != "error":
                continue
            where = f"{path.relative_to(CORPUS)}:{f.line} [{f.rule}]"
            assert f.rule not in FALSE_CLASSES, where
            if f.rule in ("unknown-app", "app-version", "third-party-app"):
                # The test suite runs on current Asterisk: only real typos may remain (and
                # old tests calling applications gone in 21, `removed-app`, which are true).
                assert "Hangip" in f.message, where
            errors.append(where)
    # Remaining errors are true (duplicate priorities, rejected lines, Hangip typos, Gotos to
    # contexts the tests never define, NoCDR gone in 21...): 60, against 184 before.
    assert len(errors) <= 60


def test_background_context_argument_is_a_jump_target():
    dp = parse("[c]\nexten => s,1,Background(x,,,menu)\n same => n,WaitExten(3)\n"
               "exten => t,1,Hangup()\nexten => i,1,Hangup()\n"
               "exten => 2,1,Background(x,,,nowhere)\n same => n,WaitExten(3)\n[menu]\n"
               "exten => 1,1,Hangup()\n")
    assert [(f.rule, f.line) for f in lint(dp, lang="en") if f.rule == "goto-context"] == [
        ("goto-context", 6)]


# Production dialplans (../shared/corpus/production, see its README): every error lint reports
# there was reviewed and is true; none may be added (a false alarm) or lost (a real bug).
PRODUCTION = CORPUS.parent / "production"
PRODUCTION_ERRORS = {
    # Gosub(page,s,1(...)): [page] only has _X., which does not match s.
    "asterisk/configs/samples/extensions.conf.sample": [
        (612, "goto-extension"), (614, "goto-extension")],
    # `exten => minivm,n` for s,n; setvar (gone since 1.4); goto(menu)/goto(sendvmcleanup)
    # name labels of the current extension; `minivmappmess` for MinivmAccMess; `...,1))`.
    "asterisk/configs/samples/extensions_minivm.conf.sample": [
        (18, "missing-priority-1"), (19, "priority-gap"), (96, "removed-app"), (98, "goto-label"),
        (99, "removed-app"), (101, "goto-label"), (102, "removed-app"), (104, "goto-label"),
        (105, "removed-app"), (107, "goto-label"), (113, "goto-label"),
        (116, "goto-label-is-extension"), (121, "unknown-app"), (138, "goto-label-is-extension"),
        (159, "goto-label")],
    # Goto(operator,1) from [External-Features], which has no operator extension.
    "asterisk/configs/basic-pbx/extensions.conf": [(44, "goto-extension"),
                                                   (51, "goto-extension")],
    # GotoIf("${GOSUB_RETVAL}" == "apppwd::pass"}?...) without $[ ]: always true.
    "xivo-config-master/dialplan/asterisk/extensions.conf": [(66, "condition-not-expression")],
    "xivo-config-16.13/dialplan/asterisk/extensions.conf": [(69, "condition-not-expression")],
}


@pytest.mark.skipif(not PRODUCTION.is_dir(), reason="../shared/corpus/production not present")
@pytest.mark.parametrize("main", sorted(PRODUCTION_ERRORS))
def test_production_dialplans(main):
    dp = parse_file(PRODUCTION / main, lenient=True)
    assert not dp.errors and len(dp.files) >= 1
    found = sorted((f.line, f.rule) for f in lint(dp, lang="en") if f.severity == "error")
    assert found == PRODUCTION_ERRORS[main]


def test_goto_loops_of_any_length_each_priority_walked_once():
    # A ring of 500 unconditional Gotos is one loop (one finding); a chain of 500 ending in a
    # Hangup is none. Each priority is walked once, so long chains stay linear.
    n = 500
    ring = parse("[c]\n" + "".join(f"exten => {i},1,Goto({(i + 1) % n},1)\n" for i in range(n)))
    assert [(f.rule, f.line) for f in lint(ring, lang="en") if f.rule == "goto-loop"] == [
        ("goto-loop", 2)]
    chain = parse("[c]\n" + "".join(f"exten => {i},1,Goto({i + 1},1)\n" for i in range(n))
                  + f"exten => {n},1,Hangup()\n")
    assert "goto-loop" not in lint(chain).rules()
