"""extensions.conf syntax corners, positions and errors."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toipkit.dialplan import DialplanSyntaxError, parse, parse_file


def steps(dp, ctx, ext, cid=None):
    return [(p.number, p.label, p.app, p.data) for p in dp[ctx].extension(ext, cid).steps()]


def test_exten_same_n_s_labels_and_plus():
    dp = parse("""[c]
exten => 100,1,Answer
 same => n(menu),Background(x)
same=>n,WaitExten(5)
exten = 200,1,NoOp()
exten => 200,n+2,NoOp(four)
exten => 200,s+1,NoOp(five)
exten => 200,menu2+1,NoOp(bad)
exten => 300,1(start),NoOp()
exten => 300,start+3,NoOp(four)
""", lenient=True)
    assert steps(dp, "c", "100") == [(1, None, "Answer", ""), (2, "menu", "Background", "x"),
                                     (3, None, "WaitExten", "5")]
    assert [s[0] for s in steps(dp, "c", "200")] == [1, 4, 5]
    assert steps(dp, "c", "300")[1][0] == 4
    assert dp.contexts["c"].extension("100").labels == {"menu": 2}
    assert [e.line for e in dp.errors] == [8]  # unknown label "menu2"


def test_next_priority_is_per_context_not_per_extension():
    dp = parse("[c]\nexten => 1,1,NoOp(a)\nexten => 2,n,NoOp(b)\n")
    assert steps(dp, "c", "2") == [(2, None, "NoOp", "b")]


def test_positions():
    text = "; header\n[ivr]\n  exten => s,1,Answer()\n same => n(go),Playback(hello)\n"
    dp = parse(text, filename="extensions.conf")
    p1, p2 = dp["ivr"].extension("s").steps()
    assert (p1.file, p1.line, p1.column, p1.app_column) == ("extensions.conf", 3, 3, 16)
    assert (p2.line, p2.column, p2.app_column) == (4, 2, 16)
    assert dp["ivr"].line == 2


def test_comments_block_nested_and_escaped_semicolon():
    dp = parse("""[c]
exten => 1,1,Set(A=\\;) ; comment
;-- block
exten => 2,1,NoOp(hidden)
 ;-- nested --;
still hidden --;
exten => 3,1,NoOp(x;--inline--;y)
exten => 4,1,NoOp(a) ;--- not a block
""")
    assert steps(dp, "c", "1") == [(1, None, "Set", "A=;")]
    assert dp["c"].extension("2") is None
    assert steps(dp, "c", "3") == [(1, None, "NoOp", "xy")]
    assert steps(dp, "c", "4") == [(1, None, "NoOp", "a")]
    p = dp["c"].extension("3").steps()[0]
    assert p.line == 7


def test_app_parens_quotes_and_nesting():
    dp = parse("""[c]
exten => 1,1,agi(googletts.agi,"Bonjour, (toi)",fr,any)
exten => 2,1,GotoIf($[${LEN(${X})} > 0]?a,1:b,1)
exten => 3,1,Hangup
exten => 4,1,Wait,2
exten => 5,1,Dial(PJSIP/${EXTEN:1},20)
""")
    p = dp["c"].extension("1").steps()[0]
    assert p.app == "agi" and p.args == ["googletts.agi", "Bonjour, (toi)", "fr", "any"]
    assert dp["c"].extension("2").steps()[0].data == "$[${LEN(${X})} > 0]?a,1:b,1"
    assert steps(dp, "c", "3") == [(1, None, "Hangup", "")]
    assert dp["c"].extension("4").steps()[0].app == "Wait,2"
    assert dp["c"].extension("5").steps()[0].args == ["PJSIP/${EXTEN:1}", "20"]


def test_pattern_with_comma_in_brackets_and_cid():
    dp = parse("[c]\nexten => _[1,2]XX,1,NoOp()\nexten => 100/_0(1)-23.,1,NoOp()\n")
    assert dp["c"].extension("_[1,2]XX") is not None
    assert dp["c"].extension("100", "_0123.") is not None


def test_hint_include_switch_ignorepat():
    dp = parse("""[c]
exten => 6245,hint,PJSIP/phone1&PJSIP/phone2
exten => 6245,1,Dial(PJSIP/phone1)
include => daytime,9:00-17:00,mon-fri,*,*
include => other
switch => IAX2/user:[key]@server/context
ignorepat => 9
[daytime]
[other]
""")
    c = dp["c"]
    assert c.extension("6245").hint.app == "PJSIP/phone1&PJSIP/phone2"
    assert [(i.name, i.timespec) for i in c.includes] == [
        ("daytime", "9:00-17:00,mon-fri,*,*"), ("other", None)]
    assert (c.switches[0].module, c.switches[0].data) == ("IAX2", "user:[key]@server/context")
    assert c.ignorepats[0].pattern == "9"
    assert "hint: PJSIP/phone1&PJSIP/phone2" in dp.show()


def test_templates_inheritance_and_append():
    dp = parse("""[base](!)
exten => i,1,Playback(invalid)
[menu](base)
exten => s,1,Background(menu)
[menu](+)
exten => t,1,Hangup()
[globals]
X=1
[general]
autofallthrough=no
""")
    assert "base" not in dp.contexts and dp.templates == ["base"]
    assert {e.name for e in dp["menu"].extensions.values()} == {"i", "s", "t"}
    assert dp.globals["X"].value == "1"
    assert dp.autofallthrough is False


def test_repeated_context_header_merges():
    dp = parse("[a]\nexten => 1,1,NoOp()\n[a]\nexten => 2,1,NoOp()\n")
    assert len(dp.contexts) == 1 and len(dp["a"].extensions) == 2


def test_globals_in_extension_names():
    dp = parse("[globals]\nOP=9\n[c]\nexten => ${OP},1,NoOp()\n")
    assert dp["c"].extension("9") is not None


@pytest.mark.parametrize("text,line,column,fragment", [
    ("exten => 1,1,NoOp()\n", 1, 1, "pas de [contexte]"),
    ("[c\nexten => 1,1,NoOp()\n", 1, 1, "pas de ']' fermant"),
    ("[c](x\n", 1, 4, "pas de ')' fermante"),
    ("[c](missing)\n", 1, 1, "héritage demandé"),
    ("[c](+)\n", 1, 1, "n'existe pas encore"),
    ("[c]\nexten => 1,n,NoOp()\n", 2, 12, "première entrée"),
    ("[c]\nsame => n,NoOp()\n", 2, 1, "sans 'exten =>' avant"),
    ("[c]\nexten => 1,0,NoOp()\n", 2, 12, "doit être >= 1"),
    ("[c]\nexten => 1,foo,NoOp()\n", 2, 12, "priorité/label invalide"),
    ("[c]\nexten => 1,1(lab,NoOp()\n", 2, 12, "')' fermante du label"),
    ("[c]\njust text\n", 2, 1, "sans '='"),
    ("[c]\n#include nope.conf\n", 2, 1, "n'existe pas"),
])
def test_syntax_errors_have_positions(text, line, column, fragment):
    with pytest.raises(DialplanSyntaxError) as info:
        parse(text, filename="x.conf")
    err = info.value
    assert (err.file, err.line, err.column) == ("x.conf", line, column)
    assert fragment in err.message
    assert err.source_line is not None and err.hint


def test_lenient_collects_errors_and_goes_on():
    dp = parse("[c]\nexten => 1,foo,NoOp()\nexten => 2,1,NoOp()\ngarbage\n", lenient=True)
    assert [e.line for e in dp.errors] == [2, 4]
    assert dp["c"].extension("2") is not None


def test_include_relative_glob_tryinclude_and_cycle(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "extensions.conf").write_text(
        "[a]\nexten => 1,1,NoOp()\n#include sub/part.conf\n#tryinclude \"missing.conf\"\n"
        "#include <sub/g*.conf>\n")
    (tmp_path / "sub" / "part.conf").write_text("exten => 2,1,NoOp(in a)\n[b]\n"
                                                "exten => 3,1,NoOp()\n#include extensions.conf\n")
    (tmp_path / "sub" / "g1.conf").write_text("[g]\nexten => 4,1,NoOp()\n")
    dp = parse_file(tmp_path / "extensions.conf", lenient=True)
    assert dp["a"].extension("2").steps()[0].file.endswith("part.conf")
    assert set(dp.contexts) == {"a", "b", "g"}
    assert any("cycle" in e.message for e in dp.errors)
    with pytest.raises(DialplanSyntaxError, match="cycle"):
        parse_file(tmp_path / "extensions.conf")


def test_include_paths_relative_to_the_configuration_folder(tmp_path):
    # main/config.c:2395 config_text_file_load: a relative name is "%s/%s" with
    # ast_config_AST_CONFIG_DIR, whichever file holds the #include.
    (tmp_path / "sub").mkdir()
    (tmp_path / "extensions.conf").write_text("[a]\n#include sub/one.conf\n")
    (tmp_path / "sub" / "one.conf").write_text("exten => 1,1,NoOp()\n#include sub/two.conf\n")
    (tmp_path / "sub" / "two.conf").write_text("exten => 2,1,NoOp()\n")
    dp = parse_file(tmp_path / "extensions.conf")
    assert dp["a"].extension("2") is not None
    (tmp_path / "sub" / "one.conf").write_text("#include two.conf\n")  # not sub/two.conf
    with pytest.raises(DialplanSyntaxError, match="n'existe pas"):
        parse_file(tmp_path / "extensions.conf")


def test_duplicate_priority_kept_first_and_reported():
    dp = parse("[c]\nexten => 1,1,NoOp(a)\nexten => 1,1,NoOp(b)\n")
    assert steps(dp, "c", "1") == [(1, None, "NoOp", "a")]
    assert dp.issues[0].code == "duplicate-priority" and dp.issues[0].line == 3


def test_bom_crlf_and_whitespace_in_exten():
    dp = parse("\ufeff[c]\r\nexten => 100 ,1,NoOp()\r\n")
    assert dp["c"].extension("100 ") is not None


def test_to_text_round_trip(dialplans):
    for name in ("handout-s15.conf", "handout-s17-ivr.conf", "fixed-s15.conf",
                 "fixed-s17-ivr.conf"):
        dp = parse_file(dialplans / name)
        again = parse(dp.to_text())
        assert dp.to_frame().drop(columns=["file", "line", "column"]).equals(
            again.to_frame().drop(columns=["file", "line", "column"]))


def test_parse_file_missing():
    with pytest.raises(DialplanSyntaxError, match="impossible de lire le dialplan") as err:
        parse_file("/nonexistent/extensions.conf")
    assert "conseil : vérifiez le chemin" in str(err.value)


def test_load_errors_in_english_on_request(monkeypatch):
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    with pytest.raises(DialplanSyntaxError) as err:
        parse("[c]\nexten => 1,foo,NoOp()\n", filename="x.conf")
    assert str(err.value).startswith("x.conf:2:12: invalid priority/label 'foo'\n")
    assert str(err.value).endswith("\n  hint: use a number >= 1, n, s, hint or a label defined "
                                   "earlier in the same extension")


def test_parse_file_missing_in_english_on_request(monkeypatch):
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    with pytest.raises(DialplanSyntaxError, match="cannot read dialplan") as err:
        parse_file("/nonexistent/extensions.conf")
    assert str(err.value).startswith("/nonexistent/extensions.conf:?: cannot read dialplan: ")
    assert str(err.value).endswith("\n  hint: check the path")


def test_latin1_file_is_read_byte_for_byte(tmp_path):
    f = tmp_path / "latin.conf"
    f.write_bytes(b"[c]\nexten => 1,1,NoOp(caf\xe9)\n")
    dp = parse_file(f)
    assert dp["c"].extension("1").steps()[0].data == "café"


def test_pbx_config_details():
    # [General]/[GLOBALS] are not contexts whatever their case (strcasecmp in pbx_config)
    dp = parse("[General]\nautofallthrough=no\n[GLOBALS]\nX=1\n[c]\n"
               "exten => s,1,NoOp (x)\n same => n,Hangup\n")
    assert list(dp.contexts) == ["c"] and dp.autofallthrough is False
    assert dp.globals["X"].value == "1"
    # trailing blanks before '(' stay in the application name
    assert dp["c"].extension("s").steps()[0].app == "NoOp "
    # 'same' after an exten line whose priority is invalid still uses that extension
    dp = parse("[c]\nexten => 5,bad,NoOp()\n same => 1,NoOp(ok)\n", lenient=True)
    assert dp["c"].extension("5").steps()[0].data == "ok"
    # 'n' right after a hint gives priority 0: the line is dropped
    dp = parse("[c]\nexten => 7,hint,PJSIP/7\nexten => 7,n,NoOp()\n", lenient=True)
    assert dp["c"].extension("7").priorities == {} and "donne 0" in dp.errors[0].message


# -- the everyday-line fast path gives what the general path gives -------------------------------
TRICKY_LINES = """[general]
exten => 1,1,NoOp(in general)
[globals]
X=1
[t](!)
exten => 9,1,NoOp(from template)
[c](t)
exten => 100,hint,PJSIP/100&Custom:x(y)
exten => 100,1,Answer
 same => n(menu),Background(x)
same=>n,WaitExten(5)
exten = 200,1,NoOp()
exten => 200,n+2,NoOp(four)
exten => 200,1,NoOp(duplicate)
exten => 300,1(start),NoOp()
exten => 300,1(start),NoOp(again)
exten => 300,n(start),NoOp(label twice)
exten => 400,1,NoOp (x)
exten => 400,n,Dial(PJSIP/1,20)trailing
exten => 400,n,Set(A=${B}(x))
exten => 400,n,${APP}(x)
exten => 400,n,Wait,2
exten => 400,n,Set(A=(
exten => 400,n,   Hangup   (  )
exten => 400,n,
exten => _5xx,1,NoOp(pattern)
exten => _5XX,n,NoOp(same pattern)
exten => 500/101,1,NoOp(cid)
exten => 10000000000,1,NoOp(big)
same => hint,PJSIP/x
exten => 600,n,NoOp(n after hint)
exten => 600,hint,PJSIP/600
exten => 600,hint,PJSIP/600b
exten => 700,hint,PJSIP/700
exten => 700,n,NoOp(n right after a hint)
exten += ,NoOp(appended)
[c](+)
same => n,NoOp(continued)
[d]
same => n,NoOp(no exten before)
exten => next,n,NoOp(n first)
Exten => 1,1,NoOp(capital)
exten\t=>\t2,\t1\t,\tNoOp(tabs)\t
"""


def _everything(dp):
    rows = []
    for c in dp.contexts.values():
        for key, e in c.extensions.items():
            rows.append((c.name, key, e.line, e.column, dict(e.labels)))
            for p in [*e.priorities.values(), *([e.hint] if e.hint else [])]:
                rows.append((p.number, p.label, p.app, p.data, p.file, p.line, p.column,
                             p.priority_text, p.app_column, p.keyword, p.has_parens))
    rows.append([(i.code, i.message, i.line, i.column, i.params) for i in dp.issues])
    rows.append([(e.message, e.line, e.column) for e in dp.errors])
    rows.append(sorted(dp.globals))
    return rows


def _general_path(text: str) -> str:
    """The same dialplan with a comment on every line: no line takes the fast path."""
    return "\n".join(line if ";" in line or not line.strip() else line + " ;"
                     for line in text.split("\n"))


@pytest.mark.parametrize("name", ["tricky", "handout-s15.conf", "handout-s17-ivr.conf",
                                  "generated"])
def test_fast_path_agrees_with_the_general_path(name):
    if name == "tricky":
        text = TRICKY_LINES.replace("\\t", "\t")
    elif name == "generated":
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
        from bench_dialplan import generate

        text = generate(3000)
    else:
        from toipkit.dialplan import handout_path

        text = handout_path(name).read_text(encoding="utf-8")
    fast = parse(text, filename="x.conf", lenient=True)
    general = parse(_general_path(text), filename="x.conf", lenient=True)
    assert _everything(fast) == _everything(general)
    assert len(fast.priorities) > 5


_KEYS = ["exten => ", "same => ", "exten=", "same=>", "  exten => ", "Exten => ", "exten\t=>\t",
         "same  =        "]
_EXTS = ["1", "_X.", "s", "100", "_5xx", "_5XX", "a b", "${G}", "1/2", "", "h"]
_PRIOS = ["1", "2", "n", "hint", "n(l)", "1(l)", "s", "next", "n+1", "0", "99999999999", " n ",
          "l", "n(l"]
_APPS = ["NoOp()", "Set(A=1)", "Dial(x)y", "NoOp (x)", "Wait,2", "Answer", " Hangup ( ) ",
         "${A}(x)", "X(", "", "Set(A=(", "a)b(c", "PJSIP/1&Custom:x(y)", "Goto(s,1)\r"]


@st.composite
def _priority_lines(draw):
    lines = [draw(st.sampled_from(["[c]", "[d]", "[c](+)", "[globals]"]))]
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["[c]", "[d]", "[c](+)", "[e](c)", "G=1"])))
            continue
        key = draw(st.sampled_from(_KEYS))
        ext = "" if key.strip().lower().startswith("same") else draw(st.sampled_from(_EXTS)) + ","
        lines.append(f"{key}{ext}{draw(st.sampled_from(_PRIOS))},{draw(st.sampled_from(_APPS))}")
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_priority_lines())
def test_fast_path_agrees_with_the_general_path_on_random_lines(text):
    fast = parse(text, filename="x.conf", lenient=True)
    general = parse(_general_path(text), filename="x.conf", lenient=True)
    assert _everything(fast) == _everything(general)
