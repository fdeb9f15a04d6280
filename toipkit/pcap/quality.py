"""E-model (ITU-T G.107) R-factor and MOS estimate for an RTP stream.

Assumptions (stated because a single capture point cannot observe them):

- one-way mouth-to-ear delay = ``delay_ms`` (default 100 ms, network + codec + jitter buffer);
  a jitter buffer adds ``2 × mean jitter`` to it;
- delay impairment Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3) (Cole & Rosenbluth 2001);
- equipment impairment Ie,eff = Ie + (95 − Ie)·Ppl/(Ppl/BurstR + Bpl), random loss (BurstR = 1),
  codec values from ITU-T G.113 Appendix I (G.711 with PLC: Ie = 0, Bpl = 25.1);
- R = 93.2 − Id − Ie,eff (default G.107 values for every other parameter);
- MOS (CQE) from R with G.107 Annex B.
"""

from __future__ import annotations

from dataclasses import dataclass

from toipkit.i18n import _

# codec -> (Ie, Bpl)  (ITU-T G.113 Appendix I, as used by common monitoring tools)
CODECS = {
    "g711": (0.0, 25.1), "pcmu": (0.0, 25.1), "pcma": (0.0, 25.1), "g711u": (0.0, 25.1),
    "g711a": (0.0, 25.1), "g729": (11.0, 19.0), "g723": (15.0, 16.1), "gsm": (20.0, 10.0),
    "ilbc": (11.0, 32.0), "g722": (0.0, 25.1), "opus": (0.0, 25.1),
}
R0 = 93.2


@dataclass
class MosEstimate:
    r_factor: float
    mos: float
    delay_ms: float
    loss_percent: float
    jitter_ms: float
    codec: str
    ie: float
    bpl: float

    @property
    def assumptions(self) -> str:
        """What the estimate assumes (a single capture point cannot observe it), for students."""
        return _("Modèle E (UIT-T G.107) : R = 93,2 − Id − Ie,eff ; délai aller supposé de "
                 "{delay} ms (100 ms par défaut) + 2 × la gigue moyenne ; pertes aléatoires ; "
                 "valeurs du codec selon la G.113").format(delay=f"{self.delay_ms:g}")

    def as_dict(self) -> dict:
        return {"r_factor": round(self.r_factor, 2), "mos": round(self.mos, 2),
                "delay_ms": self.delay_ms, "loss_percent": self.loss_percent,
                "jitter_ms": self.jitter_ms, "codec": self.codec}


def r_to_mos(r: float) -> float:
    """ITU-T G.107 Annex B mapping from R to MOS-CQE."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6


def delay_impairment(d: float) -> float:
    return 0.024 * d + (0.11 * (d - 177.3) if d > 177.3 else 0.0)


def e_model(loss_percent: float, delay_ms: float = 100.0, jitter_ms: float = 0.0,
            codec: str = "g711", burst_ratio: float = 1.0) -> MosEstimate:
    """R-factor and MOS for a loss rate (%), a one-way delay and a mean jitter (ms)."""
    key = codec.lower().replace(".", "").replace("-", "")
    ie, bpl = next((v for k, v in CODECS.items() if key.startswith(k)), CODECS["g711"])
    d = delay_ms + 2.0 * jitter_ms
    ppl = max(0.0, loss_percent)
    ie_eff = ie + (95 - ie) * ppl / (ppl / burst_ratio + bpl) if ppl > 0 else ie
    r = R0 - delay_impairment(d) - ie_eff
    return MosEstimate(r, r_to_mos(r), delay_ms, loss_percent, jitter_ms, codec, ie, bpl)


def mos(stream_or_loss, delay_ms: float = 100.0, jitter_ms: float | None = None,
        codec: str | None = None) -> MosEstimate:
    """E-model estimate for an ``RtpStream`` (its loss %, mean jitter and codec) or a loss %."""
    if hasattr(stream_or_loss, "stats"):
        return stream_mos(stream_or_loss, delay_ms)
    return e_model(float(stream_or_loss), delay_ms, jitter_ms or 0.0, codec or "g711")


def stream_mos(stream, delay_ms: float = 100.0) -> MosEstimate:
    s = stream.stats
    loss = max(0.0, s.lost_percent)
    return e_model(loss, delay_ms, max(0.0, s.mean_jitter), stream.codec)
