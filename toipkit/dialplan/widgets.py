"""A telephone keypad that drives the call simulator (ipywidgets), with a plain fallback.

``dial_pad(dp, "ivr", "s", interactive=True)`` shows twelve keys, « Appeler » and « Effacer »:
each key press re-runs :func:`toipkit.dialplan.simulate` with the keys typed so far (pressed as
soon as the call listens) and shows where the call ends. With ``interactive=False`` (grading, CI,
papermill) it just returns the :class:`Trace` for ``dtmf``, which prints as a table.
"""

from __future__ import annotations

from html import escape
from typing import Any

from toipkit.dialplan.messages import outcome_label
from toipkit.dialplan.model import Dialplan
from toipkit.dialplan.simulate import Trace, simulate
from toipkit.i18n import _

__all__ = ["dial_pad", "DialPad"]

KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"]


class DialPad:
    """State of the keypad: the keys typed and the last simulated call."""

    def __init__(self, dialplan: Dialplan, context: str, exten: str = "s", dtmf: str = "",
                 **simulate_kwargs: Any):
        self.dialplan = dialplan
        self.context = context
        self.exten = exten
        self.keys = dtmf
        self.kwargs = simulate_kwargs
        self.trace: Trace = self.run()

    def run(self) -> Trace:
        self.trace = simulate(self.dialplan, self.context, self.exten, dtmf=self.keys,
                              **self.kwargs)
        return self.trace

    def press(self, key: str) -> Trace:
        if key not in KEYS:
            raise ValueError(_("pas une touche du clavier : {key}").format(key=repr(key)))
        self.keys += key
        return self.run()

    def clear(self) -> Trace:
        self.keys = ""
        return self.run()

    def _repr_html_(self) -> str:
        return (f"<p>Touches : <code>{escape(self.keys or '(aucune)')}</code></p>"
                + self.trace._repr_html_())


def dial_pad(dialplan: Dialplan, context: str, exten: str = "s", dtmf: str = "",
             interactive: bool = True, **simulate_kwargs: Any):
    """Keypad widget over :func:`simulate` (``interactive=False``: the Trace for ``dtmf``)."""
    pad = DialPad(dialplan, context, exten, dtmf, **simulate_kwargs)
    if not interactive:
        return pad.trace
    try:
        import ipywidgets as w
        from IPython.display import HTML, display
    except ImportError:  # no widget library: same as the plain fallback
        return pad.trace

    out = w.Output(layout=w.Layout(border="1px solid #ccc", padding="4px", width="100%"))
    typed = w.HTML()

    def refresh():
        typed.value = (f"<b>Appel</b> {escape(exten)}@{escape(context)} &nbsp; <b>touches :</b> "
                       f"<code>{escape(pad.keys or '(aucune)')}</code> &nbsp; → "
                       f"<b>{escape(outcome_label(pad.trace.outcome))}</b>")
        out.clear_output()
        with out:
            display(HTML(pad.trace._repr_html_()))

    def on_key(button):
        pad.press(button.description)
        refresh()

    def on_clear(_button):
        pad.clear()
        refresh()

    buttons = []
    for k in KEYS:
        b = w.Button(description=k, layout=w.Layout(width="48px", height="40px"))
        b.on_click(on_key)
        buttons.append(b)
    grid = w.GridBox(buttons, layout=w.Layout(grid_template_columns="repeat(3, 52px)"))
    clear = w.Button(description="Effacer", icon="eraser", button_style="warning")
    clear.on_click(on_clear)
    call = w.Button(description="Rappeler (silence)", icon="phone", button_style="success",
                    tooltip="relance l'appel avec les touches tapées, sans touche de plus")
    call.on_click(lambda _b: (pad.run(), refresh()))
    refresh()
    return w.VBox([typed, w.HBox([grid, w.VBox([call, clear])]), out])
