"""Extension patterns: Asterisk's matching rules and its sort order (``ext_cmp``).

Re-implemented from the rules described in ``main/pbx.c`` (old, sorted-list matcher, the default
``extenpatternmatchnew=no``):

- literal extensions sort before patterns; literals compare byte by byte ignoring ``-``;
- patterns compare position by position, each position scored ``(set size << 8) | lowest char``
  (``.`` = 0x18000, ``!`` = 0x28000, end = 0x30000, broken ``[`` = 0x40000); equal scores with
  different sets put the set with lower characters first.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = [
    "is_pattern",
    "sort_key",
    "match",
    "can_match",
    "match_more",
    "pattern_error",
    "MATCH_NO",
    "MATCH_YES",
    "MATCH_EARLY",
]

MATCH_NO = 0
MATCH_YES = 1
MATCH_EARLY = 2  # a '!' pattern: complete now, but longer strings match too

_E_MATCH = 0
_E_CANMATCH = 1
_E_MATCHMORE = 2

_ZERO_BITMAP = bytes(32)
_INVERT = bytes(255 - i for i in range(256))


def is_pattern(exten: str) -> bool:
    return exten.startswith("_")


def _pattern_positions(pattern: str) -> tuple:
    """Scores of each position of a pattern (without its leading ``_``), ext_cmp style."""
    out = []
    i = 0
    n = len(pattern)
    while True:
        while i < n and pattern[i] == "-":
            i += 1
        if i >= n:
            out.append((0x30000, _ZERO_BITMAP))
            return tuple(out)
        c = pattern[i]
        i += 1
        up = c.upper()
        bits = bytearray(32)
        if up == "N":
            bits[6], bits[7] = 0x3F, 0xC0
            score = 0x800 | ord("2")
        elif up == "X":
            bits[6], bits[7] = 0xFF, 0xC0
            score = 0xA00 | ord("0")
        elif up == "Z":
            bits[6], bits[7] = 0x7F, 0xC0
            score = 0x900 | ord("1")
        elif c == ".":
            out.append((0x18000, _ZERO_BITMAP))
            continue
        elif c == "!":
            out.append((0x28000, _ZERO_BITMAP))
            continue
        elif c == "[":
            end = pattern.find("]", i)
            if end < 0:
                out.append((0x40000, _ZERO_BITMAP))
                return tuple(out)
            count = 0
            cmin = 0xFF
            j = i
            while j < end:
                c1 = _byte(pattern[j])
                if j + 2 < end and pattern[j + 1] == "-":
                    c2 = _byte(pattern[j + 2])
                    j += 3
                else:
                    c2 = c1
                    j += 1
                cmin = min(cmin, c1)
                for cc in range(c1, c2 + 1):
                    mask = 1 << (7 - (cc % 8))
                    if not bits[cc // 8] & mask:
                        bits[cc // 8] |= mask
                        count += 0x100
            i = end + 1
            if count == 0:
                continue  # an empty set does not count as a position (ext_cmp_pattern_pos)
            score = count | cmin
        else:
            b = _byte(c)
            bits[b // 8] = 1 << (7 - (b % 8))
            score = 0x100 | b
        # Equal scores: the set with lower members (a bigger MSB-first bitmap) comes first.
        out.append((score, bytes(bits).translate(_INVERT)))


def _byte(c: str) -> int:
    o = ord(c)
    return o if o < 256 else 0xFF


@lru_cache(maxsize=65536)
def sort_key(exten: str) -> tuple:
    """A key that sorts extensions in Asterisk's ``ext_cmp`` order."""
    if not exten.startswith("_"):
        return (0, exten.replace("-", "").encode("utf-8", "surrogateescape"))
    return (1, _pattern_positions(exten[1:]))


def cid_sort_key(exten: str, cid: str | None) -> tuple:
    """Sort key including the caller-ID part: with-CID entries before the plain one."""
    if cid is None:
        return (sort_key(exten), 1, ())
    return (sort_key(exten), 0, sort_key(cid))


def pattern_error(exten: str) -> str | None:
    """Why a pattern is broken (unclosed ``[``), or None."""
    if not exten.startswith("_"):
        return None
    i = 1
    while True:
        j = exten.find("[", i)
        if j < 0:
            return None
        k = exten.find("]", j + 1)
        if k < 0:
            return "unclosed ["
        i = k + 1


def _match_core(pattern: str, data: str, mode: int) -> int:
    if not pattern.startswith("_"):
        p = pattern.replace("-", "")
        d = data.replace("-", "")
        if len(p) < len(d):
            return MATCH_NO
        if mode == _E_MATCH:
            return MATCH_YES if p == d else MATCH_NO
        if mode == _E_CANMATCH:
            return MATCH_YES if p.startswith(d) else MATCH_NO
        return MATCH_YES if len(p) > len(d) and p.startswith(d) else MATCH_NO
    pi = 1
    di = 0
    np_ = len(pattern)
    nd = len(data)
    while di < nd and pi < np_ and pattern[pi] != "/":
        dc = data[di]
        if dc == "-":
            di += 1
            continue
        pc = pattern[pi]
        up = pc.upper()
        if pc == "[":
            end = pattern.find("]", pi + 1)
            if end < 0:
                return MATCH_NO
            if end == pi + 1:  # empty set: ignored
                pi = end + 1
                continue
            j = pi + 1
            found = False
            while j < end:
                if j + 2 < end and pattern[j + 1] == "-":
                    if pattern[j] <= dc <= pattern[j + 2]:
                        found = True
                        break
                    j += 3
                    continue
                if dc == pattern[j]:
                    found = True
                    break
                j += 1
            if not found:
                return MATCH_NO
            pi = end + 1
            di += 1
            continue
        if up == "N":
            if not ("2" <= dc <= "9"):
                return MATCH_NO
        elif up == "X":
            if not ("0" <= dc <= "9"):
                return MATCH_NO
        elif up == "Z":
            if not ("1" <= dc <= "9"):
                return MATCH_NO
        elif pc == ".":
            return MATCH_YES
        elif pc == "!":
            return MATCH_EARLY
        elif pc == "-":
            pi += 1
            continue
        elif dc != pc:
            return MATCH_NO
        di += 1
        pi += 1
    while di < nd and data[di] == "-":
        di += 1
    if di < nd:
        return MATCH_NO
    # Data exhausted: dashes left in the pattern do not count (they are skipped first).
    while pi < np_ and pattern[pi] == "-":
        pi += 1
    if pi >= np_ or pattern[pi] == "/":
        return MATCH_NO if mode == _E_MATCHMORE else MATCH_YES
    if pattern[pi] == "!":
        return MATCH_EARLY
    return MATCH_NO if mode == _E_MATCH else MATCH_YES


def match(pattern: str, data: str) -> int:
    """Does ``data`` match extension ``pattern``? 0 no, 1 yes, 2 early match (``!``).

    ``data`` that is itself a pattern (``Goto(ctx,_X.,1)``) first matches a pattern equal to it
    under ``ext_cmp`` (``_extension_match_core`` in main/pbx.c: "if this test is left out, then
    _x. will not match _x. !!!"), then is matched character by character like any string.
    """
    if data[:1] == "_" and pattern[:1] == "_" and sort_key(pattern) == sort_key(data):
        return MATCH_YES
    return _match_core(pattern, data, _E_MATCH)


def can_match(pattern: str, data: str) -> bool:
    """Could ``data`` (or a longer string starting with it) match?"""
    return bool(_match_core(pattern, data, _E_CANMATCH))


def match_more(pattern: str, data: str) -> int:
    """Could a *longer* string match? (2 = ``!`` pattern: Asterisk stops waiting.)"""
    return _match_core(pattern, data, _E_MATCHMORE)


def shrink_phone_number(cid: str) -> str:
    """``ast_shrink_phone_number``: drop ``( ) space -`` outside brackets and non-final dots."""
    out = []
    bracket = 0
    n = len(cid)
    for i, c in enumerate(cid):
        if c == "[":
            bracket += 1
            out.append(c)
        elif c == "]":
            bracket -= 1
            out.append(c)
        elif c in "()- " and bracket <= 0:
            continue
        elif c == "." and bracket <= 0 and i != n - 1:
            continue
        else:
            out.append(c)
    return "".join(out)


def match_cid(cid_pattern: str, callerid: str | None) -> bool:
    """``matchcid``: an empty CID pattern matches only calls without a caller number."""
    if not callerid:
        return cid_pattern == ""
    return bool(match(cid_pattern, callerid))
