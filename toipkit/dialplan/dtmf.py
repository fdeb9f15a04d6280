"""When the caller's keys reach the channel: pressed as soon as it listens, or at given times
(a key pressed while nothing listens is lost, as on a real channel)."""

from __future__ import annotations

from toipkit.i18n import _


class _Keys:
    """The caller's keypad."""

    def __init__(self, dtmf):
        self.asap: list[str] = []
        self.timed: list[tuple[float, str]] = []
        self.lost: list[tuple[float, str]] = []
        if dtmf is None:
            return
        if isinstance(dtmf, str):
            self.asap = [c for c in dtmf if c in "0123456789*#ABCDabcd"]
            self.asap = [c.upper() for c in self.asap]
        else:
            for item in dtmf:
                t, d = item
                d = str(d).upper()
                if len(d) != 1 or d not in "0123456789*#ABCD":
                    raise ValueError(_("pas une touche DTMF : {key}").format(key=repr(d)))
                self.timed.append((float(t), d))
            self.timed.sort(key=lambda x: x[0])

    def listen(self, start: float, length: float, keys: str | None = None
               ) -> tuple[float, str] | None:
        """First key pressed within [start, start+length) that ``keys`` accepts (None = all)."""
        if self.asap:
            d = self.asap[0]
            if keys is None or d in keys:
                self.asap.pop(0)
                return start, d
            return None
        while self.timed and self.timed[0][0] < start:
            self.lost.append(self.timed.pop(0))
        while self.timed and self.timed[0][0] < start + length:
            t, d = self.timed.pop(0)
            if keys is None or d in keys:
                return t, d
            self.lost.append((t, d))  # not one of the keys this prompt listens to
        return None

    def remaining(self) -> list:
        return list(self.asap) or list(self.timed)
