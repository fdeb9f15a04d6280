"""Semantic points where the simulator and the linter follow a named rule of Asterisk's source.

Each test names the function, file and line of Asterisk it follows (line numbers: Asterisk's
master branch, commit f0c1c1a of August 2026); the expected values are what that C code
computes, worked out by hand from it.
"""

from __future__ import annotations

import os

import pytest

from toipkit.dialplan import lint, parse, simulate
from toipkit.dialplan.expr import is_true, substitute
from toipkit.dialplan.jumps import gosub_label, parse_location, static_destinations


def _apps(trace):
    return [(s.app, s.args) for s in trace.steps if s.app]


# -- main/pbx.c:6568 pbx_checkcondition: empty false, leading integer (sscanf "%30d") decides, else
#    true ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, truth", [
    ("", False), ("0", False), ("1", True), ("0=1", False), ("0abc", False), ("12ab", True),
    (" ", True), ("  0", False), ("-0", False), ("+3", True), ("abc", True), ("00", False),
    ('"1"', True), ("0.5", False),
])
def test_pbx_checkcondition(text, truth):
    assert is_true(text) is truth


def test_gotoif_without_expression_follows_the_leading_number():
    dp = parse("""[c]
exten => 0,1,GotoIf(${EXTEN}=1?yes:no)
 same => n(yes),Set(R=yes)
 same => n,Hangup()
 same => n(no),Set(R=no)
 same => n,Hangup()
exten => 1,1,GotoIf(${EXTEN}=2?yes:no)
 same => n(yes),Set(R=yes)
 same => n,Hangup()
 same => n(no),Set(R=no)
 same => n,Hangup()
""")
    # "0=1": leading integer 0, false; "1=2": leading integer 1, true.
    assert simulate(dp, "c", "0").variables["R"] == "no"
    assert simulate(dp, "c", "1").variables["R"] == "yes"
    found = lint(dp, lang="en")
    assert [(f.rule, f.line) for f in found if f.rule == "condition-not-expression"] == [
        ("condition-not-expression", 2), ("condition-not-expression", 7)]
    assert "$[${EXTEN}=1]" in found[0].hint


def test_gotoif_lone_blank_condition_is_true():
    dp = parse("[c]\nexten => s,1,GotoIf( ?t,1:f,1)\nexten => t,1,Hangup()\n"
               "exten => f,1,Busy()\n")
    assert simulate(dp, "c").outcome == "hangup"


# -- main/pbx.c:1886 _extension_match_core: "if this test is left out, then _x. will not match _x."
def test_goto_to_a_pattern_name_runs_that_pattern():
    dp = parse("""[c]
exten => s,1,Goto(c,_5XX,1)
exten => _5xx,1,Set(SEEN=${EXTEN})
 same => n,Hangup()
""")
    t = simulate(dp, "c")
    assert t.outcome == "hangup" and t.variables["SEEN"] == "_5XX"
    assert not [f for f in lint(dp, lang="en") if f.severity == "error"]


# -- main/pbx.c:5734 ast_add_extension2_lockopt: extensions compared with ext_cmp, so _5xx = _5XX --
def test_patterns_equal_under_ext_cmp_are_one_extension():
    dp = parse("""[c]
exten => _5XX,1,Set(A=1)
exten => _5xx,n,Set(B=2)
exten => _5[0-9]X,n,Hangup()
""")
    assert len(dp["c"].extensions) == 1
    t = simulate(dp, "c", "500")
    assert t.variables["B"] == "2" and t.outcome == "hangup"
    assert not [f for f in lint(dp, lang="en") if f.rule in ("missing-priority-1",
                                                               "priority-gap")]


# -- apps/app_stack.c:697 gosubif_exec: cond?label1(args):label2(args) --------------------------
def test_gosubif_calls_the_chosen_label_with_its_arguments():
    dp = parse("""[c]
exten => s,1,GosubIf($[1=1]?sub,s,1(a,b):sub,s,1(z))
 same => n,Set(BACK=${GOSUB_RETVAL})
 same => n,Hangup()
[sub]
exten => s,1,Set(GOT=${ARG1}${ARG2}${ARGC})
 same => n,Return(done)
""")
    t = simulate(dp, "c")
    assert t.variables["GOT"] == "ab2" and t.variables["BACK"] == "done"
    assert not [f for f in lint(dp, lang="en") if f.severity == "error"]


def test_lint_reads_gosubif_labels_without_their_arguments():
    dp = parse("[c]\nexten => s,1,GosubIf(${X}?sub,s,1(a):sub,s,1)\n[sub]\n"
               "exten => s,1,Return()\n")
    assert not [f for f in lint(dp, lang="en") if f.rule.startswith("goto")]


# -- apps/app_stack.c:539 gosub_exec (frame ARGn/ARGC, max_argc, lines 652-673) and :774
#    local_write ------------------------------------------------------------------------------
def test_local_variables_and_argc_live_in_the_gosub_frame():
    dp = parse("""[c]
exten => s,1,Set(x=outer)
 same => n,Gosub(sub,s,1(one,two,three))
 same => n,Set(AFTER=${x}/${ARGC}/${ARG1})
 same => n,Hangup()
[sub]
exten => s,1,Set(LOCAL(x)=inner)
 same => n,Set(IN=${x}/${LOCAL(x)}/${ARGC})
 same => n,Gosub(sub2,s,1(only))
 same => n,Return()
[sub2]
exten => s,1,Set(IN2=${ARGC}/${ARG1}/${ARG2}/${ARG3}/${x})
 same => n,Return()
""")
    v = simulate(dp, "c").variables
    assert v["IN"] == "inner/inner/3"
    # max_argc = 3 from the outer frame: ARG2 and ARG3 are set to "" in the inner frame.
    assert v["IN2"] == "1/only///inner"
    assert v["AFTER"] == "outer//"
    assert "variable-unset" not in lint(dp, lang="en").rules()


# -- main/pbx_variables.c:125 parse_variable_name (and :158 substring): sscanf("%30d:%30d") with defaults 0, INT_MAX ----
@pytest.mark.parametrize("expr, value", [
    ("${V::2}", "123456"), ("${V:2}", "3456"), ("${V:1:2}", "23"), ("${V:-2}", "56"),
    ("${V:abc}", "123456"), ("${V:2:x}", "3456"), ("${V:0:-1}", "12345"), ("${V:9}", ""),
    ("${V:-9:2}", "12"),
])
def test_substring_like_parse_variable_name(expr, value):
    assert substitute(expr, {"V": "123456"}.get) == value


# -- main/pbx.c:6949 pbx_parse_location: 1 part = priority, 2 = exten,priority, 3 = context,... -----
def test_parse_location():
    one, three = parse_location("5", "c", "s"), parse_location("c,s,5", "x", "y")
    assert (one.context, one.exten, one.number) == (three.context, three.exten, three.number)
    loc = parse_location("e,lab", "c", "s")
    assert (loc.context, loc.exten, loc.priority, loc.is_label) == ("c", "e", "lab", True)
    assert parse_location("+2", "c", "s").mode == 1
    assert parse_location("1x", "c", "s").is_label  # sscanf("%30d%1s") reads 2 items
    assert parse_location("a,b,3,extra", "c", "s").number == 3
    assert gosub_label("ctx,s,1(a,(b),c)") == ("ctx,s,1", "a,(b),c")
    assert static_destinations("GotoIf", "$[${X:1}=2]?a,1:b,${EXTEN:1},1") == [
        "a,1", "b,${EXTEN:1},1"]
    assert static_destinations("ExecIf", "$[1]?Goto(x,1):Gosub(y,s,1(a))") == ["x,1", "y,s,1"]


# -- hostile input stays bounded and gives DialplanSyntaxError -------------------------------
def test_hostile_regex_is_linear():
    # ast_expr2 uses regcomp/regexec (POSIX, leftmost-longest): no catastrophic backtracking.
    from toipkit.dialplan.expr import evaluate

    assert evaluate('"' + "a" * 5000 + '!" =~ "(a+)+$"') == ""
    assert evaluate('"ab" : "a|ab"') == "2"  # leftmost-longest, as POSIX regexec


def test_hostile_files_and_numbers(tmp_path):
    from toipkit.errors import DialplanSyntaxError

    with pytest.raises(DialplanSyntaxError, match="priorité(/label)? invalide"):
        parse("[c]\nexten => s," + "9" * 5000 + ",NoOp()\n")
    with pytest.raises(DialplanSyntaxError, match="substitution isolé") as err:
        parse("[c]\nexten => s,1,NoOp(\udc80)\n")
    assert (err.value.line, err.value.column) == (2, 19)
    with pytest.raises(DialplanSyntaxError, match="pas un fichier ordinaire"):
        parse("[c]\n#include /dev/zero\n", filename=str(tmp_path / "x.conf"))
    # A FIFO would block the reader forever (main/config.c:2452 "is not a regular file").
    fifo = tmp_path / "fifo.conf"
    os.mkfifo(fifo)
    with pytest.raises(DialplanSyntaxError, match="pas un fichier ordinaire") as err:
        parse("[c]\nexten => 1,1,NoOp()\n#include fifo.conf\n",
              filename=str(tmp_path / "x.conf"))
    assert err.value.line == 3
    dp = parse("[c]\n#include fifo.conf\nexten => 1,1,NoOp()\n",
               filename=str(tmp_path / "x.conf"), lenient=True)
    assert [e.line for e in dp.errors] == [2] and dp.find("c", "1") is not None
    from toipkit.dialplan import parse_file

    for path in (fifo, "/dev/zero"):
        with pytest.raises(DialplanSyntaxError, match="pas un fichier ordinaire"):
            parse_file(path)
    for i in range(25):  # 2**25 reads if nothing stopped it
        (tmp_path / f"f{i}.conf").write_text(f"#include f{i + 1}.conf\n" * 2)
    (tmp_path / "f25.conf").write_text("exten => 1,1,NoOp()\n")
    (tmp_path / "main.conf").write_text("[c]\n#include f0.conf\n")
    with pytest.raises(DialplanSyntaxError, match="trop nombreux"):
        from toipkit.dialplan import parse_file

        parse_file(tmp_path / "main.conf")


def test_huge_numbers_in_expressions_and_arguments():
    # ast_expr2 reads numbers with strtold: beyond a long double, ERANGE, "non-numeric argument"
    # (and +, -, * give 0). Nothing may raise Python's int/str conversion limit.
    from toipkit.dialplan.expr import evaluate

    big, almost = "9" * 5000, "9" * 3999
    assert evaluate(f"{big} + 1") == "0" and evaluate(f"-{big}") == "0"
    assert evaluate(f"{big} = {big}") == "1"  # compared as strings
    assert evaluate(f"{almost} * {almost}") == "inf"
    assert evaluate(f"{almost} % 7") == str(int(almost) % 7)
    assert (evaluate("-7 % 3"), evaluate("-7.5 % 2")) == ("-1", "-1.5")  # fmodl: dividend's sign
    dp = parse(f"""[c]
exten => s,1,Set(X=$[{big} + 1])
 same => n,Set(X=$[{almost} * {almost}])
 same => n,Wait({big})
 same => n,Set(Y=${{X:{big}:{big}}})
 same => n,SayNumber({big})
 same => n,Read(V,,{big})
 same => n,WaitExten({big})
 same => n,Goto(c,s,{big})
""")
    t = simulate(dp, "c", "s", lang="en", dtmf="1")
    assert t.outcome == "hangup" and "must be a number > 0" in t.reason
    lint(dp)


def test_execif_runs_its_application_on_data_substituted_once():
    # apps/app_exec.c execif_exec: pbx_exec(chan, app, truedata) with the data the PBX already
    # substituted: a value that looks like ${X} is not substituted again (as for Set itself).
    dp = parse("[c]\nexten => s,1,ExecIf(1?Set(R=${V}))\n same => n,Set(S=${V})\n"
               " same => n,Hangup()\n")
    t = simulate(dp, "c", variables={"V": "${X}", "X": "x"}, lang="en")
    assert (t.variables["R"], t.variables["S"]) == ("${X}", "${X}")


def test_deeply_nested_input_is_no_recursion_error():
    # ExecIf(1?ExecIf(1?...)) 2,000 deep, $[ ( ( ... ) ) ], ${ ${ ... } }: bounded, no traceback.
    dp = parse("[c]\nexten => s,1," + "ExecIf(1?" * 2000 + "Set(OK=1)" + ")" * 2000 + "\n"
               " same => n,Set(X=$[" + "(" * 3000 + "1" + ")" * 3000 + "])\n"
               " same => n,Set(Y=" + "${" * 3000 + "A" + "}" * 3000 + ")\n same => n,Hangup()\n")
    t = simulate(dp, "c", lang="en")
    assert t.outcome == "hangup" and t.variables.get("OK") == "1"
    lint(dp)


def test_simulated_version_decides_which_applications_exist():
    # main/pbx.c:2568 "No application '%s' for extension (%s, %s, %d)" and the call ends.
    dp = parse("[c]\nexten => s,1,Macro(x)\n same => n,Hangup()\n[macro-x]\n"
               "exten => s,1,NoOp()\n")
    assert "Macro" in simulate(dp, "c", lang="en").reason  # default: Asterisk 22
    t = simulate(dp, "c", lang="en", asterisk=13)  # still there in 13 (not simulated)
    assert t.outcome == "hangup" and [s.app for s in t.steps if s.app][-1] == "Hangup"
    dp = parse("[c]\nexten => s,1,If(1)\n same => n,Hangup()\n")
    assert "If" in simulate(dp, "c", lang="en", asterisk=13).reason


# -- lint and simulate read jumps with the same model (toipkit.dialplan.jumps) -----------------
AGREE_DIALPLAN = """[c]
exten => s,1,NoOp()
 same => n(lab),Set(OK=1)
 same => n,Hangup()
exten => 100,1,Set(OK=1)
 same => n,Hangup()
exten => _5XX,1,Set(OK=1)
 same => n,Hangup()
exten => go,1,{app}({dest})
 same => n,Hangup()
[d]
exten => s,1,Set(OK=1)
 same => n,Hangup()
"""


@pytest.mark.parametrize("app, dest", [
    ("Goto", "d,s,1"), ("Goto", "d,x,1"), ("Goto", "nope,s,1"), ("Goto", "100,1"),
    ("Goto", "100,3"), ("Goto", "c,_5XX,1"), ("Goto", "c,_5xx,1"), ("Goto", "c,500,1"),
    ("Goto", "lab"), ("Goto", "s,lab"), ("Goto", "s,nolab"), ("Goto", "d, s,1"),
    ("Goto", "d,s, 1"), ("Goto", "s, lab"), ("Goto", "d,s,1x"), ("Goto", "c,d"),
    ("GotoIf", "$[1]?d,s,1"), ("GotoIf", "$[1]?d,x,1"), ("GotoIf", "0?:100,1"),
    ("Gosub", "d,s,1(a,b)"), ("Gosub", "nope,s,1(a)"), ("GosubIf", "1?s,lab(x)"),
    ("GosubIf", "1?s,nolab(x)"), ("ExecIf", "1?Goto(d,s,1)"), ("ExecIf", "1?Goto(d,x,1)"),
])
def test_lint_and_simulate_agree_on_jumps(app, dest):
    # One branch per case: lint judges every branch written, the call takes one.
    dp = parse(AGREE_DIALPLAN.format(app=app, dest=dest))
    errors = [f for f in lint(dp, lang="en") if f.severity == "error" and f.line == 9]
    reached = simulate(dp, "c", "go", lang="en").variables.get("OK") == "1"
    assert bool(errors) != reached, (errors, reached)
