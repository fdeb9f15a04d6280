"""What students see rendered: the lint table as escaped HTML (its text is the findings' text),
the capture summary and the MOS assumptions in the chosen language."""

from __future__ import annotations

from html.parser import HTMLParser

from toipkit.dialplan import lint, parse
from toipkit.pcap.quality import e_model

# Findings whose texts hold $, *, # and < (Markdown would have made math and emphasis of them).
PLAN = """[accueil]
exten => s,1,Background(${sons}accueil)
exten => #,1,Goto(menu,s,1)
exten => t,1,Goto(accueil,s,1)

[menu]
exten => s,1,Background(<menu>)
exten => 1,1,Goto(nulle-part,s,1)
"""


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_the_lint_table_text_is_the_findings_text(monkeypatch):
    monkeypatch.delenv("TOIPKIT_LANG", raising=False)
    findings = lint(parse(PLAN, "plan.conf"))
    assert findings and any("$" in f.message + f.hint for f in findings)
    parser = _Cells()
    parser.feed(findings._repr_html_())
    header, *rows = parser.rows
    assert header == ["ligne", "", "règle", "message", "correction"]
    assert [[r[0], r[2], r[3], r[4]] for r in rows] == [
        [str(f.line), f.rule, f.message, f.hint] for f in findings]


def test_the_lint_table_headers_follow_toipkit_lang(monkeypatch):
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    parser = _Cells()
    parser.feed(lint(parse(PLAN, "plan.conf"))._repr_html_())
    assert parser.rows[0] == ["line", "", "rule", "message", "fix"]


def test_mos_assumptions_in_french_then_english(monkeypatch):
    monkeypatch.delenv("TOIPKIT_LANG", raising=False)
    estimate = e_model(2.0, delay_ms=150)
    assert estimate.assumptions.startswith("Modèle E (UIT-T G.107)")
    assert "150 ms" in estimate.assumptions
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    assert estimate.assumptions.startswith("E-model (ITU-T G.107)")
