"""Variable substitution (``${...}``) and ``$[ ... ]`` expressions, following Asterisk's rules.

``substitute(text, lookup)`` expands ``${VAR}``, ``${VAR:offset:length}``, ``${FUNC(args)}`` (the
``lookup`` callable receives ``VAR`` or ``FUNC(args)`` with inner expansions done) and ``$[expr]``.
``evaluate(expr)`` computes a ``$[ ]`` expression (comparisons are numeric when both sides are
numbers, else string; quoted strings keep their quotes, as in Asterisk).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from toipkit.i18n import _

__all__ = ["substitute", "evaluate", "is_true", "ExpressionError"]

_MAX_DEPTH = 50


class ExpressionError(ValueError):
    """A ``$[ ]`` expression Asterisk would reject (syntax error)."""


_LEADING_INT = re.compile(r"[ \t\n\r\f\v]*([+-]?\d+)")


def is_true(value: str) -> bool:
    """``pbx_checkcondition`` (main/pbx.c): an empty string is false; else when
    ``sscanf("%30d")`` reads a leading integer its value decides (``"0=1"``, ``"0abc"`` are
    false, ``"12ab"`` true); any other text, a lone blank included, is true."""
    if value == "":
        return False
    m = _LEADING_INT.match(value)
    if m is None:
        return True
    return int(m.group(1)[:31]) != 0  # %30d reads at most 30 characters


def _sscanf_int(text: str) -> tuple[int | None, int]:
    """``sscanf("%30d")`` on ``text``: (value or None, characters consumed)."""
    m = _LEADING_INT.match(text)
    if m is None:
        return None, 0
    digits = m.group(1)[:30]
    return int(digits), m.start(1) + len(digits)


def _find_close(text: str, start: int, open_c: str, close_c: str) -> int:
    """Index of the bracket closing the one just before ``start`` (nesting aware), or -1."""
    depth = 1
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def substitute(text: str, lookup: Callable[[str], str | None], _depth: int = 0) -> str:
    """Expand ``${...}`` and ``$[...]`` in ``text``."""
    if "$" not in text or _depth > _MAX_DEPTH:
        return text
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        j = text.find("$", i)
        if j < 0 or j + 1 >= n:
            out.append(text[i:])
            break
        nxt = text[j + 1]
        if nxt not in "{[":
            out.append(text[i:j + 1])
            i = j + 1
            continue
        out.append(text[i:j])
        close = _find_close(text, j + 2, nxt, "}" if nxt == "{" else "]")
        if close < 0:
            # Asterisk warns and keeps the rest as it is.
            out.append(text[j:])
            break
        inner = substitute(text[j + 2:close], lookup, _depth + 1)
        if nxt == "{":
            out.append(_variable(inner, lookup))
        else:
            try:
                out.append(evaluate(inner))
            except ExpressionError:
                out.append("")
        i = close + 1
    return "".join(out)


def _variable(expr: str, lookup: Callable[[str], str | None]) -> str:
    # ${VAR:offset:length}: the first ':' outside parentheses.
    depth = 0
    cut = -1
    for k, c in enumerate(expr):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == ":" and depth == 0:
            cut = k
            break
    name, sub = (expr, None) if cut < 0 else (expr[:cut], expr[cut + 1:])
    value = lookup(name)
    value = "" if value is None else str(value)
    if sub is None:
        return value
    # parse_variable_name (main/pbx_variables.c): sscanf(var, "%30d:%30d", &offset, &length)
    # with offset 0 and length INT_MAX as defaults: "${EXTEN::2}" stops at the first ':' (no
    # integer), so it is the whole string; "${X:abc}" too.
    offset, used = _sscanf_int(sub)
    length = None
    if offset is None:
        offset = 0
    elif sub[used:used + 1] == ":":
        length, _ = _sscanf_int(sub[used + 1:])
    # substring() (main/pbx_variables.c)
    if offset < 0:
        offset = max(0, len(value) + offset)
    value = value[offset:]
    if length is not None:
        value = value[:length] if length >= 0 else value[:max(0, len(value) + length)]
    return value


# -- $[ ] expressions ------------------------------------------------------------------------

_OPS = ("::", "=~", "~~", "!=", "<=", ">=", "==", "|", "&", "=", "<", ">", "+", "-", "*", "/",
        "%", "!", ":", "?", "(", ")", ",")
_OP_CHARS = set("|&=<>+-*/%!:?()~,")
# Math functions of ast_expr2 (1.6+); unknown names are an error, as in Asterisk.
_FUNCS: dict[str, Callable[..., float]] = {
    "FLOOR": math.floor, "CEIL": math.ceil, "ROUND": lambda x: math.floor(x + 0.5) if x >= 0
    else -math.floor(-x + 0.5), "TRUNC": math.trunc, "RINT": round, "SQRT": math.sqrt,
    "EXP": math.exp, "EXP2": lambda x: 2.0 ** x, "EXP10": lambda x: 10.0 ** x, "LOG": math.log,
    "LOG2": math.log2, "LOG10": math.log10, "SIN": math.sin, "COS": math.cos, "TAN": math.tan,
    "ASIN": math.asin, "ACOS": math.acos, "ATAN": math.atan, "ABS": abs,
    "POW": lambda x, y: x ** y, "ATAN2": math.atan2, "FMOD": math.fmod,
}
_NUM = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _tokens(expr: str) -> list[tuple[str, str]]:
    toks: list[tuple[str, str]] = []
    i = 0
    n = len(expr)
    while i < n:
        c = expr[i]
        if c.isspace():
            i += 1
            continue
        if c == '"':
            j = expr.find('"', i + 1)
            if j < 0:
                raise ExpressionError(_("chaîne non terminée"))
            toks.append(("s", expr[i:j + 1]))
            i = j + 1
            continue
        for op in _OPS:
            if expr.startswith(op, i):
                toks.append(("op", op))
                i += len(op)
                break
        else:
            j = i
            while j < n:
                if expr.startswith("${", j):  # an unexpanded ${...} stays one word
                    close = _find_close(expr, j + 2, "{", "}")
                    j = n if close < 0 else close + 1
                    continue
                if expr[j].isspace() or expr[j] in _OP_CHARS or expr[j] == '"':
                    break
                j += 1
            if j == i:  # a lone '~'
                j = i + 1
            toks.append(("s", expr[i:j]))
            i = j
    return toks


# ast_expr2 converts with strtold: a number beyond a long double (about 4,932 digits) fails
# with ERANGE ("Conversion of ... to number under/overflowed!") and counts as non-numeric. We stop
# a little earlier, at Python's default limit for int/str conversions.
_MAX_DIGITS = 4000


def _num(v: str):
    if _NUM.match(v.strip()):
        if len(v) > _MAX_DIGITS:
            return None
        return float(v) if "." in v else int(v)
    return None


def _trunc_rem(x: int, y: int) -> int:
    """C's remainder (fmodl): the sign of the dividend, exact for any size."""
    q = abs(x) // abs(y)
    return x - y * (q if (x >= 0) == (y >= 0) else -q)


def _fmt(x) -> str:
    if isinstance(x, int) and x.bit_length() > 3.3 * _MAX_DIGITS:
        # The product of two huge numbers: beyond what we print exactly; Asterisk's long double
        # overflows to inf not much further.
        return "inf" if x > 0 else "-inf"
    if isinstance(x, float):
        if x.is_integer() and abs(x) < 1e18:
            return str(int(x))
        return f"{x:.16g}"
    return str(x)


class _Parser:
    def __init__(self, toks):
        self.toks = toks
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, op=None):
        t = self.peek()
        if op is not None and t != ("op", op):
            raise ExpressionError(_("{op} attendu").format(op=repr(op)))
        self.i += 1
        return t

    def parse(self) -> str:
        if not self.toks:
            return ""
        v = self.cond()
        if self.i != len(self.toks):
            raise ExpressionError(_("erreur de syntaxe près de {token}").format(
                token=repr(self.peek()[1])))
        return v

    def cond(self) -> str:
        c = self.orx()
        if self.peek() == ("op", "?"):
            self.take()
            a = self.cond()
            self.take("::")
            b = self.cond()
            return a if is_true(c) else b
        return c

    def orx(self) -> str:
        a = self.andx()
        while self.peek() == ("op", "|"):
            self.take()
            b = self.andx()
            a = a if _truth(a) else b
        return a

    def andx(self) -> str:
        a = self.cmp()
        while self.peek() == ("op", "&"):
            self.take()
            b = self.cmp()
            a = a if (_truth(a) and _truth(b)) else "0"
        return a

    def cmp(self) -> str:
        a = self.add()
        while self.peek()[0] == "op" and self.peek()[1] in ("=", "==", "!=", "<", ">", "<=", ">="):
            op = self.take()[1]
            b = self.add()
            x, y = _num(a), _num(b)
            if x is not None and y is not None:
                lhs, rhs = x, y
            else:
                lhs, rhs = a, b
            res = {"=": lhs == rhs, "==": lhs == rhs, "!=": lhs != rhs, "<": lhs < rhs,
                   ">": lhs > rhs, "<=": lhs <= rhs, ">=": lhs >= rhs}[op]
            a = "1" if res else "0"
        return a

    def add(self) -> str:
        a = self.mul()
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            b = self.mul()
            x, y = _num(a), _num(b)
            if x is None or y is None:
                a = "0"  # Asterisk: "non-numeric argument"
            else:
                a = _fmt(x + y if op == "+" else x - y)
        return a

    def mul(self) -> str:
        a = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/", "%"):
            op = self.take()[1]
            b = self.unary()
            x, y = _num(a), _num(b)
            if x is None or y is None:
                a = "0"
            elif op == "*":
                a = _fmt(x * y)
            elif y == 0:
                a = "0"  # Asterisk warns "division by zero"
            elif op == "/":
                a = _fmt(x / y)  # floating point since Asterisk 1.6
            else:
                a = _fmt(_trunc_rem(x, y)) if isinstance(x, int) and isinstance(
                    y, int) else _fmt(math.fmod(x, y))
        return a

    def unary(self) -> str:
        t = self.peek()
        if t == ("op", "!"):
            self.take()
            v = self.unary()
            return "0" if _truth(v) else "1"
        if t == ("op", "-"):
            self.take()
            v = self.unary()
            x = _num(v)
            return _fmt(-x) if x is not None else "0"
        return self.regex()

    def regex(self) -> str:
        a = self.concat()
        while self.peek()[0] == "op" and self.peek()[1] in (":", "=~"):
            op = self.take()[1]
            b = self.concat()
            a = _regex(a, b, anchored=(op == ":"))
        return a

    def concat(self) -> str:
        a = self.atom()
        while self.peek() == ("op", "~~"):
            self.take()
            a = a + self.atom()
        return a

    def atom(self) -> str:
        t = self.peek()
        if t == ("op", "("):
            self.take()
            v = self.cond()
            self.take(")")
            return v
        if t[0] == "s":
            self.take()
            if self.peek() == ("op", "(") and t[1].upper() in _FUNCS:
                self.take()
                args = [self.cond()]
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.cond())
                self.take(")")
                nums = [_num(a) for a in args]
                if any(x is None for x in nums):
                    return "0"
                try:
                    return _fmt(_FUNCS[t[1].upper()](*nums))
                except (ValueError, TypeError, OverflowError, ZeroDivisionError):
                    return "0"
            return t[1]
        if t[0] is None:
            raise ExpressionError(_("fin d'expression inattendue"))
        raise ExpressionError(_("erreur de syntaxe près de {token}").format(token=repr(t[1])))


def _truth(v: str) -> bool:
    """Truth inside an expression: empty string and numeric zero are false."""
    if v == "" or v == '""':
        return False
    x = _num(v)
    return x != 0 if x is not None else True


def _compile_regex(pattern: str, subject_length: int):
    """ast_expr2 compiles with regcomp(REG_EXTENDED): POSIX, leftmost-longest, no catastrophic
    backtracking. RE2 in POSIX longest-match mode gives the same matches in linear time, so a
    hostile ``"aaaa…!" =~ "(a+)+$"`` stays fast. Patterns RE2 cannot run (back-references) fall
    back to Python's engine on short subjects only."""
    try:
        import re2
    except ImportError:  # pragma: no cover - google-re2 is a dependency
        re2 = None
    if re2 is not None:
        options = re2.Options()
        options.longest_match = True
        options.posix_syntax = True
        options.perl_classes = True  # glibc's regcomp knows \w \s \d-like GNU classes
        options.word_boundary = True
        options.log_errors = False
        try:
            return re2.compile(pattern, options)
        except re2.error:
            pass
    if subject_length > _MAX_BACKTRACKING_SUBJECT:
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None


_MAX_BACKTRACKING_SUBJECT = 24


def _regex(s: str, pattern: str, anchored: bool) -> str:
    s = s[1:-1] if len(s) >= 2 and s[0] == s[-1] == '"' else s
    pattern = pattern[1:-1] if len(pattern) >= 2 and pattern[0] == pattern[-1] == '"' else pattern
    rx = _compile_regex(pattern, len(s))
    if rx is None:
        return "0"
    m = rx.match(s) if anchored else rx.search(s)
    if m is None:
        return "" if rx.groups else "0"
    if rx.groups:
        return m.group(1) or ""
    return str(m.end() - m.start())


def evaluate(expr: str) -> str:
    """Evaluate a ``$[ ]`` expression (variables already substituted)."""
    if len(expr) > 100_000:
        raise ExpressionError(_("expression trop longue"))
    try:
        return _Parser(_tokens(expr)).parse()
    except RecursionError as exc:
        raise ExpressionError(_("expression trop profondément imbriquée")) from exc
