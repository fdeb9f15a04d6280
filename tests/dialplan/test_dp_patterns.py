"""Pattern matching and ordering against Asterisk's own test material (its ``ext_cmp`` and
pattern-match unit tests)."""

from __future__ import annotations

import pytest

from toipkit.dialplan import exists, find_priority, parse, sort_extensions
from toipkit.dialplan.patterns import can_match, match, match_more

DOCS_PATTERNS = ["_6XX1", "_64XX", "_640X", "_6.", "_64NX", "_6[45]NX", "_6[34]NX"]


def test_docs_sort_example():
    assert sort_extensions(DOCS_PATTERNS) == [
        "_640X", "_64NX", "_64XX", "_6[34]NX", "_6[45]NX", "_6XX1", "_6."]


def test_docs_dialing_6421_runs_64NX():
    text = "[t]\n" + "\n".join(f"exten => {p},1,NoOp({p})" for p in DOCS_PATTERNS)
    dp = parse(text)
    assert find_priority(dp, "t", "6421").exten == "_64NX"


def test_literals_before_patterns_and_ascii_order():
    assert sort_extensions(["_X.", "s", "100", "_1XX", "#", "*", "i"]) == [
        "#", "*", "100", "i", "s", "_1XX", "_X."]


def test_dash_is_decoration():
    assert match("_NXX-XXXX", "555-1234") == 1
    assert match("_NXXXXXX", "5551234") == 1
    assert match("555-1234", "5551234") == 1
    assert sort_extensions(["_6-4X", "_64X"]) in (["_6-4X", "_64X"], ["_64X", "_6-4X"])


def test_equal_score_sets_lower_members_first():
    assert sort_extensions(["_Set-[02-9a]", "_Set-[0-9]"]) == ["_Set-[0-9]", "_Set-[02-9a]"]


def test_dot_and_bang():
    assert match("_1.", "1") == 0
    assert match("_1.", "12") == 1
    assert match("_1!", "1") == 2
    assert match("_1!", "123") == 2
    assert sort_extensions(["_1!", "_1.", "_1X"]) == ["_1X", "_1.", "_1!"]


def test_matchmore_and_canmatch():
    assert match_more("_1XX", "1") == 1
    assert match_more("_1XX", "123") == 0
    assert can_match("_1XX", "12")
    assert match_more("100", "10") == 1
    assert match_more("100", "100") == 0
    assert match_more("_1.", "1") == 1


# testsuite tests/pbx/dialplan [patterns] (old matcher): dialled -> winner.
TESTSUITE_PATTERNS = ["100", "_1X[0-5]", "_1XX", "abc", "_[a][b][c]X", "_[a][b][c]N", "cba",
                      "_[c][b][a]!", "_[c][b][a][z].", "_1[5][0-5]", "_[1-2][5][0-5]",
                      "_RG-101-.", "_RG-10111-.", "_RG-201.", "_RG-20111.", "foo-1", "_foo-!",
                      "bar-1", "_bar.", "_Set-[0-9]", "_Set-[02-9a]", "_9[]5[0-5]"]
TESTSUITE_EXPECTED = {
    "100": "100", "101": "_1X[0-5]", "106": "_1XX", "abc": "abc", "abc0": "_[a][b][c]X",
    "abc2": "_[a][b][c]N", "cba": "cba", "cbaz": "_[c][b][a]!", "cbazy": "_[c][b][a][z].",
    "155": "_1[5][0-5]", "255": "_[1-2][5][0-5]", "RG-10111-9999": "_RG-10111-.",
    "RG-20111-9999": "_RG-20111.", "foo-1": "foo-1", "foo-2": "_foo-!", "foo-": "_foo-!",
    "bar-1": "bar-1", "bar-2": "_bar.", "Set-2": "_Set-[0-9]", "955": "_9[]5[0-5]",
}


@pytest.mark.parametrize("dialled,winner", sorted(TESTSUITE_EXPECTED.items()))
def test_testsuite_patterns(dialled, winner):
    text = "[patterns]\n" + "\n".join(f"exten => {p},1,NoOp({p})" for p in TESTSUITE_PATTERNS)
    dp = parse(text)
    p = find_priority(dp, "patterns", dialled)
    assert p is not None and p.exten == winner


def test_test_pbx_c_table():
    dp = parse("""
[test_pattern]
exten => _2.,1,NoOp(pattern)
exten => 2000,1,NoOp(literal)
include => test_pattern_include
[test_pattern_include]
exten => 2000,2,NoOp(included)
""")
    assert find_priority(dp, "test_pattern", "200", 1).exten == "_2."
    assert find_priority(dp, "test_pattern", "2000", 1).data == "literal"
    p = find_priority(dp, "test_pattern", "2000", 2)
    assert p.context == "test_pattern_include"
    assert find_priority(dp, "test_pattern_include", "2000", 2).data == "included"


def test_fallthrough_to_less_specific_pattern():
    dp = parse("""
[t]
exten => 6410,1,SayDigits(987)
exten => _641X,1,SayDigits(12345)
exten => _641X,n,SayDigits(54321)
""")
    assert find_priority(dp, "t", "6410", 1).data == "987"
    assert find_priority(dp, "t", "6410", 2).data == "54321"


CID_CASES = [
    (["agi1/2565550101", "agi1"], "agi1", "2565550101", "2565550101"),
    (["agi2/2565550299", "agi2"], "agi2", "2565550202", None),
    (["agi3/", "agi3"], "agi3", "", ""),
    (["agi4", "agi4/"], "agi4", "2565550404", None),
    (["agi5", "agi5/"], "agi5", "", ""),
    (["agi6", "agi6/", "agi6/2565550606"], "agi6", "2565550606", "2565550606"),
    (["agi7", "agi7/", "agi7/1", "agi7/12", "agi7/123"], "agi7", "12", "12"),
]


@pytest.mark.parametrize("entries,ext,cid,expected_cid", CID_CASES)
def test_callerid_match(entries, ext, cid, expected_cid):
    dp = parse("[c]\n" + "\n".join(f"exten => {e},1,NoOp({e})" for e in entries))
    p = find_priority(dp, "c", ext, 1, callerid=cid)
    assert p is not None and p.cid == expected_cid


def test_callerid_docs_example():
    dp = parse("[c]\nexten => 306,1,NoOp(any)\nexten => 306/_101,1,NoOp(101)\n"
               "exten => 306/_102,1,NoOp(102)\n")
    assert find_priority(dp, "c", "306", callerid="101").data == "101"
    assert find_priority(dp, "c", "306", callerid="102").data == "102"
    assert find_priority(dp, "c", "306", callerid="555").data == "any"


def test_include_cycle_and_depth_first():
    dp = parse("[a]\ninclude => b\ninclude => c\n[b]\ninclude => a\n[c]\nexten => 1,1,NoOp(c)\n")
    assert exists(dp, "a", "1")
    assert not exists(dp, "b", "2")


def _asterisklint_python():
    import os
    from pathlib import Path

    env = os.environ.get("ASTERISKLINT_PYTHON")
    if env:
        return env
    venv = Path(__file__).resolve().parents[2] / "benchmarks/.cache/asterisklint-venv/bin/python"
    return str(venv) if venv.exists() else None


def test_order_agrees_with_asterisklint_on_random_patterns():
    """asterisklint (GPL, optional, separate venv) as an independent oracle for ext_cmp order."""
    import json
    import random
    import subprocess

    py = _asterisklint_python()
    if py is None:
        pytest.skip("asterisklint not installed (see benchmarks/bench_dialplan.py)")
    rnd = random.Random(7)
    atoms = ["1", "2", "0", "X", "N", "Z", "[1-3]", "[02-9a]", "[0-9]", "[45]", "-", "a", "#",
             "*"]
    pats = set()
    for _ in range(2000):
        s = "".join(rnd.choice(atoms) for _ in range(rnd.randint(1, 5)))
        s += rnd.choice(["", "", ".", "!"])
        pats.add("_" + s if rnd.random() < 0.8 or any(c in s for c in "[]XNZ.!") else s)
    pats = sorted(pats)
    script = ("import json,sys\nfrom asterisklint.pattern import Pattern\n"
              "from asterisklint.where import DUMMY_WHERE\n"
              "p=json.load(sys.stdin)\n"
              "print(json.dumps(sorted(p,key=lambda x: Pattern(x,DUMMY_WHERE))))\n")
    r = subprocess.run([py, "-c", script], input=json.dumps(pats), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert sort_extensions(pats) == json.loads(r.stdout)
