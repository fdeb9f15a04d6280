"""$[ ] expressions against the input/output table of Asterisk's tests/test_expr.c."""

from __future__ import annotations

import pytest

from toipkit.dialplan.expr import evaluate, is_true, substitute

SI = '"Something interesting"'
TEST_EXPR_C = [
    ("2 + 2", "4"), ("      2     +       2            ", "4"), ("", ""), ("2 - 4", "-2"),
    ("4 - 2", "2"), ("-4 - -2", "-2"), ("4 + 2 * 8", "20"), ("(4 + 2) * 8", "48"),
    ("4 + (2 * 8)", "20"), ("4 + (2 * 8) ? 3 :: 6", "3"), ("4 + 8 / 2", "8"),
    ("FLOOR(4 + 8 / 3)", "6"), ("(4+8) / 3", "4"), ("4 + 8 % 3", "6"), ("4 + 9 % 3", "4"),
    ("(4+9) %3", "1"), ("(4+8) %3", "0"), ("(4+9) % 3", "1"), ("(4+8) % 3", "0"),
    ("(4+9)% 3", "1"), ("(4+8)% 3", "0"), ("4 & 4", "4"), ("0 & 4", "0"), ("0 & 0", "0"),
    ("2 | 0", "2"), ("2 | 4", "2"), ("0 | 0", "0"), ("!0 | 0", "1"), ("!4 | 0", "0"),
    ("4 | !0", "4"), ("!4 | !0", "1"), ("0", "0"), ("!0", "1"), ("00", "00"), ("!00", "1"),
    ("1", "1"), ("!1", "0"), ("01", "01"), ("!01", "0"), ("3 < 4", "1"), ("4 < 3", "0"),
    ("3 > 4", "0"), ("4 > 3", "1"), ("3 = 3", "1"), ("3 = 4", "0"), ("3 != 3", "0"),
    ("3 != 4", "1"), ("3 >= 4", "0"), ("3 >= 3", "1"), ("4 >= 3", "1"), ("3 <= 4", "1"),
    ("4 <= 3", "0"), ("4 <= 4", "1"), ("3 > 4 & 4 < 3", "0"), ("4 > 3 & 3 < 4", "1"),
    ("x = x", "1"), ("y = x", "0"), ("x != y", "1"), ("x != x", "0"),
    (f"{SI} =~ interesting", "11"), (f"{SI} =~ Something", "9"),
    (f"{SI} : Something", "9"), (f"{SI} : interesting", "0"),
    (f'{SI} =~ "interesting"', "11"), (f'{SI} =~ "Something"', "9"),
    (f'{SI} : "Something"', "9"), (f'{SI} : "interesting"', "0"),
    (f"{SI} =~ (interesting)", "11"), (f"{SI} =~ (Something)", "9"),
    (f"{SI} : (Something)", "9"), (f"{SI} : (interesting)", "0"),
    (f'{SI} =~ "\\(interesting\\)"', "0"), (f'{SI} =~ "\\(Something\\)"', "0"),
    (f'{SI} : "\\(Something\\)"', "0"), (f'{SI} : "\\(interesting\\)"', "0"),
    ('"011043567857575" : "011\\(..\\)"', "0"), ('"9011043567857575" : "011\\(..\\)"', "0"),
    ('"011043567857575" =~ "011\\(..\\)"', "0"), ('"9011043567857575" =~ "011\\(..\\)"', "0"),
    (f'{SI} =~ "(interesting)"', "interesting"), (f'{SI} =~ "(Something)"', "Something"),
    (f'{SI} : "(Something)"', "Something"), (f'{SI} : "(interesting)"', ""),
    ('"011043567857575" : "011(..)"', "04"), ('"9011043567857575" : "011(..)"', ""),
    ('"011043567857575" =~ "011(..)"', "04"), ('"9011043567857575" =~ "011(..)"', "04"),
    ("3", "3"), ("something", "something"), ("043", "043"),
    ("${GLOBAL(ULKOPREFIX)}9${x}", "${GLOBAL(ULKOPREFIX)}9${x}"), ("512059${x}", "512059${x}"),
]


@pytest.mark.parametrize("expr,result", TEST_EXPR_C)
def test_asterisk_test_expr_table(expr, result):
    assert evaluate(expr) == result


@pytest.mark.parametrize("expr,result", [
    ('"*"="*"', "1"), ('"0"="*"', "0"), ("abc < abd", "1"), ("3 % 2", "1"), ("8 / 3", "2.666666666666667"),
])
def test_more_expressions(expr, result):
    assert evaluate(expr) == result


def test_truth_and_substitution():
    assert [is_true(v) for v in ("", "0", "00", "1", "abc", " 0 ")] == [
        False, False, False, True, True, False]
    look = {"X": "hello", "N": "5"}.get
    assert substitute("${X:1:3}-${X:-2}", look) == "ell-lo"
    assert substitute("$[${N} + 1]", look) == "6"
    assert substitute("${UNSET}x", look) == "x"


def test_expression_errors_in_french_and_english(monkeypatch):
    from toipkit.dialplan.expr import ExpressionError

    with pytest.raises(ExpressionError, match="^erreur de syntaxe près de '\\)'$"):
        evaluate("1 + )")
    with pytest.raises(ExpressionError, match="^fin d'expression inattendue$"):
        evaluate("1 +")
    with pytest.raises(ExpressionError, match="^chaîne non terminée$"):
        evaluate('"abc')
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    with pytest.raises(ExpressionError, match="^syntax error near '\\)'$"):
        evaluate("1 + )")


def test_keys_and_versions_errors_in_french(monkeypatch):
    from toipkit.dialplan.catalog import parse_versions
    from toipkit.dialplan.dtmf import _Keys

    with pytest.raises(ValueError, match="^pas une touche DTMF : 'X'$"):
        _Keys([(1.0, "x")])
    with pytest.raises(ValueError, match="version d'Asterisk inconnue : 'treize'"):
        parse_versions("treize")
    with pytest.raises(ValueError, match="plus ancien que la plus ancienne version connue"):
        parse_versions("1.2")
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    with pytest.raises(ValueError, match="^not a DTMF key: 'X'$"):
        _Keys([(1.0, "x")])
