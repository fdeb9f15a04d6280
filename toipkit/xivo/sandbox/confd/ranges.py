"""Contexts and their number ranges (XiVO 16.x rules, DID length, Wazo 20.01 typed ranges)."""

from __future__ import annotations

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.store import Tx


def get_context(tx: Tx, name: str | None) -> dict | None:
    if name is None:
        return None
    for ctx in tx.all("context"):  # a handful, cached across requests
        if ctx["name"] == name:
            return ctx
    return None


def require_context(tx: Tx, name: str) -> dict:
    ctx = get_context(tx, name)
    if ctx is None:
        raise S.param_not_found("context", "Context", name=name)
    return ctx


def _in_ranges(exten: str, ranges: list[dict]) -> bool:
    if not S.is_digits(exten):
        return False
    for r in ranges:
        start, end = str(r["start"]), str(r.get("end") or r["start"])
        if len(exten) == len(start) and int(start) <= int(exten) <= int(end):
            return True
        did = int(r.get("did_length") or 0)
        # xivo-dao (16.x) compares the number with the last ``did_length`` digits of the bounds
        if did and int(start[-did:]) <= int(exten) <= int(end[-did:]):
            return True
    return False


def check_extension_range(tx: Tx, exten: str, context_name: str) -> None:
    """XiVO 16.x: the exten must lie in one of the context's ranges (patterns are exempt)."""
    if exten.startswith("_"):
        return
    ctx = require_context(tx, context_name)
    ranges = [r for key in S.RANGE_KEYS for r in ctx.get(key) or []]
    if not _in_ranges(exten, ranges):
        raise S.outside_range(exten, context_name)


def check_typed_range(tx: Tx, extension: dict, key: str, label: str) -> None:
    """Wazo 20.01: line/group/conference numbers must be in the matching range."""
    exten = extension["exten"]
    if exten.startswith("_"):
        return
    ctx = require_context(tx, extension["context"])
    if not _in_ranges(exten, ctx.get(key) or []):
        raise S.input_error(
            f"Extension '{exten}' is outside of {label} range for context '{extension['context']}'"
        )
