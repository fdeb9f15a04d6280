#!/usr/bin/env python3
"""Generate the sample SIP/RTP captures of lab 03 with real tools on loopback.

    sudo .venv/bin/python scripts/make_captures.py            # all captures -> data/
    .venv/bin/python scripts/make_captures.py --only register --out-dir out/captures --check

What runs: SIPp (the scenarios in scripts/sipp/) plays the phones 101 Geralt Deriv, 102 Yennefer
Vengerberg, 103 Triss Merigold and the "XiVO" (registrar, IVR) on 127.0.0.x addresses; dumpcap
captures on `lo` with a capture filter on those addresses and ports; RTP is played by SIPp's
``play_pcap_audio`` from RTP files this script writes (scripted French conversations spoken by
espeak-ng, G.711-encoded, RTP header fields from the seed; RFC 4733 telephone-events for the
IVR call); SIPp and the relay run with a real-time priority (chrt) when allowed, so that RTP
pacing does not depend on the machine's load; the impaired call goes through
scripts/udp_relay.py (seeded loss and jitter). Then tshark 4.0.17 computes the statistics stored in
data/manifest.json.

Determinism: with the same --seed (and the same espeak-ng/sox) the captures have the same
content (every SIP message, every RTP header and payload, per UDP flow and in the same order
within each flow; the same packets dropped by the relay). Timestamps, and therefore the
delta/jitter columns and the interleaving of different flows, differ from run to run.
``--check`` regenerates into --out-dir and compares the per-flow content digests with
data/manifest.json.

Needs root (dumpcap on lo, SIPp's raw socket for play_pcap_audio), sipp, dumpcap, tshark,
espeak-ng and sox. See docs/captures.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pcaptool  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIPP_DIR = Path(__file__).resolve().parent / "sipp"
RELAY = Path(__file__).resolve().parent / "udp_relay.py"
DEFAULT_SEED = 20261127
DOMAIN = "xivo.local"
RATE = 8000
PTIME_MS = 20
SAMPLES = RATE * PTIME_MS // 1000


@dataclass(frozen=True)
class Party:
    number: str
    name: str
    ip: str
    media_port: int


PHONES = {
    "101": Party("101", "Geralt Deriv", "127.0.0.101", 16100),
    "102": Party("102", "Yennefer Vengerberg", "127.0.0.102", 16200),
    "103": Party("103", "Triss Merigold", "127.0.0.103", 16300),
}
XIVO = Party("100", "XiVO", "127.0.0.10", 16000)  # registrar and IVR (extension 100)
RELAY_IP, RELAY_PORT_A, RELAY_PORT_B = "127.0.0.50", 17000, 17002
ALL_HOSTS = [XIVO.ip, RELAY_IP] + [p.ip for p in PHONES.values()]
BASE_FILTER = "udp and ({hosts}) and (port 5060 or portrange 16000-17999)".format(
    hosts=" or ".join(f"host {h}" for h in ALL_HOSTS))

CODECS = {"PCMU": 0, "PCMA": 8}
DTMF_PACKETS = 5 + 3  # 100 ms of event packets + 3 end packets
DTMF_EVENTS = {**{str(i): i for i in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14,
               "D": 15}


def sub_seed(seed: int, *names: object) -> int:
    text = ":".join(str(x) for x in (seed, *names))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def token(seed: int, *names: object, n: int = 12) -> str:
    return hashlib.sha256(":".join(str(x) for x in (seed, *names)).encode()).hexdigest()[:n]


# --------------------------------------------------------------------------- audio + RTP

def linear_to_ulaw(sample: int) -> int:
    """ITU-T G.711 µ-law encoding of a 16-bit linear sample (14-bit magnitude, bias 33)."""
    pcm = sample >> 2
    if pcm < 0:
        pcm, mask = -pcm, 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, 8159) + 33
    seg = next((i for i, end in enumerate((0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF))
                if pcm <= end), 8)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0F)) ^ mask


def linear_to_alaw(sample: int) -> int:
    """ITU-T G.711 A-law encoding of a 16-bit linear sample."""
    sign = 0x80 if sample >= 0 else 0
    if sample < 0:
        sample = -sample - 1
    sample = min(sample, 32767) >> 3  # 13-bit magnitude
    if sample < 32:
        code = sample >> 1
    else:
        exponent = sample.bit_length() - 5  # 1..7
        code = (exponent << 4) | ((sample >> (exponent)) & 0x0F)
    return (sign | code) ^ 0x55


VOICES = {"101": "fr", "102": "fr+f3", "103": "fr+f2", "100": "fr+f4"}  # espeak-ng voices


def speech(text: str, voice: str, work: Path) -> list[int]:
    """The text spoken by espeak-ng, as 8 kHz 16-bit samples (sox resamples without dither, so
    the result is the same at every run with the same espeak-ng and sox)."""
    wav, raw = work / "tts.wav", work / "tts.raw"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text], check=True,
                   capture_output=True)
    subprocess.run(["sox", "-D", str(wav), "-r", "8000", "-c", "1", "-b", "16", "-e",
                    "signed-integer", "-L", "-t", "raw", str(raw)], check=True,
                   capture_output=True)
    samples = array("h", raw.read_bytes())
    if sys.byteorder == "big":
        samples.byteswap()
    return list(samples)


@dataclass
class Line:
    """One utterance (or key press) of a scripted conversation."""

    who: str  # party number, or "dtmf"
    gap: float  # silence before it, seconds
    text: str  # words to say, or the key


def timeline(lines: list[Line], work: Path) -> tuple[list[tuple[float, Line, list[int]]], float]:
    """Start time of each line (each starts `gap` s after the previous one ends) and the end."""
    t = 0.0
    placed = []
    for line in lines:
        t += line.gap
        if line.who == "dtmf":
            samples: list[int] = []
            length = DTMF_PACKETS * PTIME_MS / 1000
        else:
            samples = speech(line.text, VOICES[line.who], work)
            length = len(samples) / RATE
        placed.append((t, line, samples))
        t += length
    return placed, t


def track(seconds: float, rng: random.Random, utterances: list[tuple[float, list[int]]],
          noise: float = 20.0) -> list[int]:
    """A party's microphone: faint background noise (from the seed) plus its utterances."""
    n = int(seconds * RATE)
    out = [int(rng.gauss(0.0, noise)) for _ in range(n)]
    for start, samples in utterances:
        i0 = int(start * RATE)
        for k, v in enumerate(samples[: max(0, n - i0)]):
            out[i0 + k] = max(-32768, min(32767, out[i0 + k] + v))
    return out


def encode(samples: list[int], codec: str) -> bytes:
    enc = linear_to_ulaw if codec == "PCMU" else linear_to_alaw
    return bytes(enc(s) for s in samples)


@dataclass
class RtpStream:
    """Builds the RTP packets one endpoint sends (header fields random from the seed)."""

    rng: random.Random
    pt: int
    event_pt: int = 101
    ssrc: int = 0
    seq: int = 0
    ts: int = 0
    t_ms: float = 1000.0  # play-file time; starts at 1 s (SIPp ignores a zero first time)
    marker: bool = True
    packets: list[tuple[float, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ssrc = self.rng.getrandbits(32)
        self.seq = self.rng.getrandbits(16)
        self.ts = self.rng.getrandbits(32)

    def _emit(self, pt: int, marker: bool, ts: int, payload: bytes) -> None:
        header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, self.seq & 0xFFFF,
                             ts & 0xFFFFFFFF, self.ssrc)
        self.packets.append((self.t_ms, header + payload))
        self.seq = (self.seq + 1) & 0xFFFF
        self.t_ms += PTIME_MS

    def audio(self, encoded: bytes) -> None:
        for off in range(0, len(encoded) - SAMPLES + 1, SAMPLES):
            self._emit(self.pt, self.marker, self.ts, encoded[off:off + SAMPLES])
            self.marker = False
            self.ts += SAMPLES

    def fill(self, samples: list[int], codec: str, until_s: float) -> None:
        """Audio from ``samples`` (the party's whole track) up to ``until_s`` into the call."""
        start = len(self.packets) * SAMPLES
        end = int(until_s * RATE) // SAMPLES * SAMPLES
        if end > start:
            self.audio(encode(samples[start:end], codec))

    def dtmf(self, digit: str, duration_ms: int = 100, volume: int = 10) -> None:
        """An RFC 4733 event: first packet with the marker bit, one packet per 20 ms with a
        growing duration, then three end packets (E bit) with the final duration; all carry the
        event's start timestamp. The audio timestamp then resumes as if audio had flowed."""
        event = DTMF_EVENTS[digit]
        start_ts = self.ts
        steps = duration_ms // PTIME_MS
        for k in range(1, steps + 1):
            payload = struct.pack("!BBH", event, volume & 0x3F, k * SAMPLES)
            self._emit(self.event_pt, k == 1, start_ts, payload)
        for _ in range(3):
            payload = struct.pack("!BBH", event, 0x80 | (volume & 0x3F), steps * SAMPLES)
            self._emit(self.event_pt, False, start_ts, payload)
        self.ts = start_ts + (steps + 3) * SAMPLES

    def write_play_file(self, path: Path) -> None:
        """A pcap for SIPp's play_pcap_audio (it rewrites addresses/ports, keeps RTP as is)."""
        frames = [(int(t * 1_000_000), pcaptool.ipv4_udp_frame("127.0.0.1", 6000, "127.0.0.1",
                                                               6000, pkt))
                  for t, pkt in self.packets]
        pcaptool.write_pcap(str(path), frames)

    @property
    def duration_ms(self) -> float:
        return len(self.packets) * PTIME_MS


# --------------------------------------------------------------------------- running tools

class Dumpcap:
    """dumpcap on lo with a capture filter, started before and stopped after a scenario."""

    def __init__(self, out: Path, cfilter: str, pcapng: bool):
        self.out, self.cfilter, self.pcapng = out, cfilter, pcapng
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Dumpcap:
        args = ["dumpcap", "-i", "lo", "-f", self.cfilter, "-w", str(self.out)]
        if not self.pcapng:
            args.append("-P")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        # dumpcap prints "File: ..." once it captures
        deadline = time.monotonic() + 10
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if line.startswith("File:") or not line:
                break
        if not line.startswith("File:"):
            self.proc.kill()
            raise RuntimeError(f"dumpcap did not start: {line!r}")
        time.sleep(0.5)
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.5)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        finally:
            self.proc.stderr.close()


_REALTIME: list[str] | None = None


def realtime_prefix() -> list[str]:
    """Run SIPp and the relay with a real-time priority when possible: RTP pacing then does not
    depend on the load of the machine (other processes would otherwise add jitter)."""
    global _REALTIME
    if _REALTIME is None:
        _REALTIME = []
        if shutil.which("chrt") and hasattr(os, "geteuid") and os.geteuid() == 0:
            # containers may refuse real-time scheduling (no CAP_SYS_NICE): try it once
            probe = subprocess.run(["chrt", "-f", "10", "true"], capture_output=True)
            if probe.returncode == 0:
                _REALTIME = ["chrt", "-f", "10"]
    return _REALTIME


def sipp(workdir: Path, scenario: str, party_ip: str, media_port: int, keys: dict[str, str],
         sets: dict[str, str] | None = None, remote: str | None = None,
         extra: list[str] | None = None) -> list[str]:
    args = [*realtime_prefix(), "sipp", "-sf", str(SIPP_DIR / scenario), "-i", party_ip,
            "-p", "5060", "-mi", party_ip, "-mp", str(media_port), "-m", "1", "-nostdin", "-t", "u1",
            "-timeout", "60s", "-timeout_error"]
    for k, v in keys.items():
        args += ["-key", k, str(v)]
    for k, v in (sets or {}).items():
        args += ["-set", k, str(v)]
    args += extra or []
    if remote:
        args.append(remote)
    return args


def run_pair(workdir: Path, uas: list[str], uac: list[str], label: str) -> None:
    """Start the callee, then the caller; both must finish with SIPp's success status."""
    with open(workdir / f"{label}-uas.log", "w") as ulog:
        uas_proc = subprocess.Popen(uas, cwd=workdir, stdout=ulog, stderr=subprocess.STDOUT)
        try:
            time.sleep(0.5)
            with open(workdir / f"{label}-uac.log", "w") as clog:
                rc = subprocess.run(uac, cwd=workdir, stdout=clog, stderr=subprocess.STDOUT,
                                    timeout=90).returncode
            uas_rc = uas_proc.wait(timeout=30)
        finally:
            if uas_proc.poll() is None:
                uas_proc.kill()
                uas_proc.wait()
    if rc != 0 or uas_rc != 0:
        raise RuntimeError(f"{label}: sipp failed (caller rc={rc}, callee rc={uas_rc}); "
                           f"logs in {workdir}")


def call_keys(seed: int, cap: str, n: int, caller: Party, callee: Party, codec: str,
              sdp_caller: str | None = None,
              sdp_callee: str | None = None) -> tuple[dict, dict, str]:
    sdp_caller = sdp_caller or caller.ip
    sdp_callee = sdp_callee or callee.ip
    uac = {"from_user": caller.number, "from_name": caller.name, "to_user": callee.number,
           "to_name": callee.name, "domain": DOMAIN, "tag": token(seed, cap, n, "from", n=10),
           "sess_id": str(sub_seed(seed, cap, n, "o1") % 10**9), "sdp_ip": sdp_caller,
           "pt": CODECS[codec], "codec": codec}
    uas = {"user": callee.number, "tag": token(seed, cap, n, "to", n=10),
           "sess_id": str(sub_seed(seed, cap, n, "o2") % 10**9), "sdp_ip": sdp_callee,
           "pt": CODECS[codec], "codec": codec}
    call_id = f"{token(seed, cap, n, 'callid', n=20)}@{DOMAIN}"
    return uac, uas, call_id


# --------------------------------------------------------------------------- the captures

@dataclass
class Spec:
    name: str
    file: str
    pcapng: bool
    title: str
    description: str
    shows: list[str]


SPECS = {
    "register": Spec(
        "register", "captures/register.pcap", False,
        "Enregistrement SIP des postes 101, 102, 103 (défi digest 401)",
        "Each phone sends REGISTER to the XiVO registrar (127.0.0.10), gets 401 Unauthorized "
        "with a digest challenge (MD5, realm xivo.local), registers again with an Authorization "
        "header and gets 200 OK. Classic pcap (microseconds).",
        ["REGISTER", "401 Unauthorized + WWW-Authenticate", "REGISTER + Authorization",
         "200 OK"]),
    "call": Spec(
        "call", "captures/call-101-102.pcapng", True,
        "Appel 101 → 102 décroché, deux flux RTP G.711 µ-law",
        "Geralt Deriv (101, 127.0.0.101) calls Yennefer Vengerberg (102, 127.0.0.102) "
        "peer-to-peer: INVITE, 100 Trying, 180 Ringing (2 s of ringing), 200 OK with SDP, ACK, "
        "a short spoken conversation (French, espeak-ng voices; PCMU, 20 ms packets, one RTP "
        "stream per direction: it can be played in Wireshark's RTP player), BYE and 200 OK. "
        "The lab's sample call.",
        ["INVITE", "100 Trying", "180 Ringing", "200 OK", "ACK", "RTP both ways (g711U)", "BYE",
         "200 OK"]),
    "ivr": Spec(
        "ivr", "captures/ivr-dtmf.pcapng", True,
        "Appel 101 → SVI (100) avec touches DTMF RFC 2833",
        "Geralt Deriv (101) calls the IVR (extension 100 on the XiVO, 127.0.0.10), which answers "
        "and speaks its menu (espeak-ng); the caller presses keys sent as RFC 2833/4733 "
        "telephone-event packets (PT 101, on the audio SSRC: marker bit on the first packet, duration growing by "
        "160 every 20 ms, three end packets) after each prompt, then hangs up.",
        ["INVITE/100/180/200/ACK", "RTP both ways (g711U)", "RFC 2833 telephone-event DTMF",
         "BYE/200"]),
    "failed": Spec(
        "failed", "captures/busy-cancel.pcap", False,
        "Appels non aboutis : occupé (486) et annulé (CANCEL/487)",
        "Two calls without media. 101 calls 103 (Triss Merigold), who is busy: INVITE, "
        "100 Trying, 486 Busy Here, ACK. Then 101 calls 102, which rings, and the caller hangs "
        "up before the answer: INVITE, 100, 180 Ringing, CANCEL, 200 OK (CANCEL), "
        "487 Request Terminated, ACK. Classic pcap (microseconds).",
        ["INVITE", "100 Trying", "486 Busy Here", "ACK", "180 Ringing", "CANCEL",
         "200 OK (CANCEL)", "487 Request Terminated"]),
    "impaired": Spec(
        "impaired", "captures/impaired-call.pcapng", True,
        "Appel 101 → 102 à travers un réseau dégradé (pertes et gigue)",
        "Same call as call-101-102 but in G.711 A-law and with the media through a relay "
        "(127.0.0.50, like an SBC media anchor) that drops packets at random and delays them by "
        "a random amount (seeded). The SDP of both sides announces the relay. The capture keeps "
        "the SIP and the RTP leaving the relay towards each phone, i.e. what each phone "
        "receives: 2 impaired streams.",
        ["INVITE/100/180/200/ACK", "RTP both ways (g711A) after loss + jitter", "BYE/200"]),
}

IMPAIRMENT = {"loss": 0.05, "base_delay_ms": 20.0, "jitter_ms": 30.0}


def lab_password(seed: int, user: str) -> str:
    # Throwaway password of a loopback lab account, derived from the seed. Lab 03 gives 101's
    # so that students can recompute a digest response by hand; it protects nothing.
    return token(seed, "password", user, n=16)


def make_register(seed: int, work: Path, out: Path) -> dict:
    with Dumpcap(out, BASE_FILTER, pcapng=False):
        for n, phone in enumerate(PHONES.values(), 1):
            password = lab_password(seed, phone.number)
            uas = sipp(work, "uas_registrar.xml", XIVO.ip, XIVO.media_port,
                       {"tag": token(seed, "register", n, "to", n=10),
                        "nonce": token(seed, "register", n, "nonce", n=32),
                        "user": phone.number, "password": password, "domain": DOMAIN})
            call_id = f"{token(seed, 'register', n, 'callid', n=20)}@{DOMAIN}"
            uac = sipp(work, "uac_register.xml", phone.ip, phone.media_port,
                       {"from_user": phone.number, "from_name": phone.name, "domain": DOMAIN,
                        "tag": token(seed, "register", n, "from", n=10)},
                       extra=["-cid_str", call_id, "-au", phone.number, "-ap", password,
                              "-auth_uri", DOMAIN],
                       remote=f"{XIVO.ip}:5060")
            run_pair(work, uas, uac, f"register-{phone.number}")
    return {"seeds": {"seed": seed}, "registrations": [p.number for p in PHONES.values()]}


def _answered_call(seed: int, work: Path, cap: str, caller: Party, callee: Party, codec: str,
                   caller_rtp: RtpStream, callee_rtp: RtpStream, talk_ms: int,
                   sdp_caller=None, sdp_callee=None) -> str:
    caller_rtp.write_play_file(work / "caller.pcap")
    callee_rtp.write_play_file(work / "callee.pcap")
    kc, ke, call_id = call_keys(seed, cap, 1, caller, callee, codec, sdp_caller, sdp_callee)
    kc["talk_ms"] = talk_ms
    uas = sipp(work, "uas_call.xml", callee.ip, callee.media_port, ke)
    uac = sipp(work, "uac_call.xml", caller.ip, caller.media_port, kc,
               extra=["-cid_str", call_id],
               remote=f"{callee.ip}:5060")
    run_pair(work, uas, uac, cap)
    return call_id


def _stream_info(s: RtpStream, codec: str, frm: Party, to: Party) -> dict:
    return {"from": frm.number, "to": to.number, "ssrc": f"0x{s.ssrc:08X}", "codec": codec,
            "first_seq": s.packets[0][1][2] << 8 | s.packets[0][1][3],
            "packets_sent": len(s.packets)}


CALL_SCRIPT = [
    Line("102", 0.3, "Allô ?"),
    Line("101", 0.3, "Bonjour Yennefer, c'est Geralt. Je teste la nouvelle ligne."),
    Line("102", 0.4, "Je t'entends très bien, le son est parfait."),
    Line("101", 0.3, "Parfait. Je raccroche, à bientôt."),
    Line("102", 0.3, "Au revoir."),
]
IMPAIRED_SCRIPT = [
    Line("102", 0.3, "Allô ?"),
    Line("101", 0.3, "Bonjour Yennefer, c'est Geralt. Tu m'entends ?"),
    Line("102", 0.4, "Très mal, ta voix est hachée."),
    Line("101", 0.3, "Je te rappelle plus tard."),
    Line("102", 0.3, "D'accord, au revoir."),
]
IVR_SCRIPT = [
    Line("100", 0.3, "Bonjour et bienvenue chez Arasaka. Pour accéder au menu, tapez dièse."),
    Line("dtmf", 0.4, "#"),
    Line("100", 0.3, "Pour la messagerie, tapez 2."),
    Line("dtmf", 0.4, "2"),
    Line("100", 0.3, "Entrez le numéro de votre boîte vocale, suivi de dièse."),
    Line("dtmf", 0.5, "1"),
    Line("dtmf", 0.35, "0"),
    Line("dtmf", 0.35, "1"),
    Line("dtmf", 0.35, "#"),
    Line("100", 0.3, "Boîte vocale 101. Au revoir."),
]
IVR_DIGITS = "".join(line.text for line in IVR_SCRIPT if line.who == "dtmf")


def scripted_streams(seed: int, cap: str, script: list[Line], caller: Party, callee: Party,
                     codec: str, work: Path) -> tuple[RtpStream, RtpStream, list[dict]]:
    """RTP of both parties for a scripted conversation (speech by espeak-ng, keys as RFC 4733
    events from the caller). The callee's stream stops 0.2 s before the caller's."""
    placed, end = timeline(script, work)
    r1 = random.Random(sub_seed(seed, cap, caller.number))
    r2 = random.Random(sub_seed(seed, cap, callee.number))
    pt = CODECS[codec]
    s1, s2 = RtpStream(r1, pt=pt), RtpStream(r2, pt=pt)
    total = end + 0.6
    mic1 = track(total, r1, [(t, smp) for t, ln, smp in placed if ln.who == caller.number])
    mic2 = track(total - 0.2, r2, [(t, smp) for t, ln, smp in placed if ln.who == callee.number])
    for t, line, _ in placed:
        if line.who == "dtmf":
            s1.fill(mic1, codec, t)
            s1.dtmf(line.text)
    s1.fill(mic1, codec, total)
    s2.fill(mic2, codec, total - 0.2)
    info = [{"at_s": round(t, 2), "who": ln.who, "text": ln.text} for t, ln, _ in placed]
    return s1, s2, info


def make_call(seed: int, work: Path, out: Path) -> dict:
    caller, callee = PHONES["101"], PHONES["102"]
    s1, s2, script = scripted_streams(seed, "call", CALL_SCRIPT, caller, callee, "PCMU", work)
    with Dumpcap(out, BASE_FILTER, pcapng=True):
        call_id = _answered_call(seed, work, "call", caller, callee, "PCMU", s1, s2,
                                 int(s1.duration_ms) + 400)
    return {"seeds": {"seed": seed, "audio_101": sub_seed(seed, "call", "101"),
                      "audio_102": sub_seed(seed, "call", "102")},
            "calls": [{"call_id": call_id, "from": "101", "to": "102", "outcome": "answered"}],
            "conversation": script,
            "streams_sent": [_stream_info(s1, "PCMU", caller, callee),
                             _stream_info(s2, "PCMU", callee, caller)]}


def make_ivr(seed: int, work: Path, out: Path) -> dict:
    caller = PHONES["101"]
    s1, s2, script = scripted_streams(seed, "ivr", IVR_SCRIPT, caller, XIVO, "PCMU", work)
    with Dumpcap(out, BASE_FILTER, pcapng=True):
        call_id = _answered_call(seed, work, "ivr", caller, XIVO, "PCMU", s1, s2,
                                 int(s1.duration_ms) + 400)
    return {"seeds": {"seed": seed, "audio_101": sub_seed(seed, "ivr", "101"),
                      "audio_ivr": sub_seed(seed, "ivr", "100")},
            "dtmf": {"digits": IVR_DIGITS, "payload_type": 101, "event_duration_ms": 100,
                     "end_packets": 3, "volume": 10,
                     "meaning": "# (accueil -> menu), 2 (messagerie), 101# (boîte vocale 101)"},
            "calls": [{"call_id": call_id, "from": "101", "to": "100", "outcome": "answered"}],
            "conversation": script,
            "streams_sent": [_stream_info(s1, "PCMU", caller, XIVO),
                             _stream_info(s2, "PCMU", XIVO, caller)]}


def make_failed(seed: int, work: Path, out: Path) -> dict:
    caller = PHONES["101"]
    calls = []
    with Dumpcap(out, BASE_FILTER, pcapng=False):
        kc, ke, call_id = call_keys(seed, "busy", 1, caller, PHONES["103"], "PCMU")
        uas = sipp(work, "uas_busy.xml", PHONES["103"].ip, PHONES["103"].media_port, ke)
        uac = sipp(work, "uac_busy.xml", caller.ip, caller.media_port, kc,
                   extra=["-cid_str", call_id], remote=f"{PHONES['103'].ip}:5060")
        run_pair(work, uas, uac, "busy")
        calls.append({"call_id": call_id, "from": "101", "to": "103", "outcome": "busy",
                      "final": 486})
        time.sleep(0.5)
        kc, ke, call_id = call_keys(seed, "cancel", 1, caller, PHONES["102"], "PCMU")
        kc["ring_ms"] = 3000
        uas = sipp(work, "uas_cancel.xml", PHONES["102"].ip, PHONES["102"].media_port, ke)
        uac = sipp(work, "uac_cancel.xml", caller.ip, caller.media_port, kc,
                   extra=["-cid_str", call_id],
                   remote=f"{PHONES['102'].ip}:5060")
        run_pair(work, uas, uac, "cancel")
        calls.append({"call_id": call_id, "from": "101", "to": "102", "outcome": "cancelled",
                      "final": 487})
    return {"seeds": {"seed": seed}, "calls": calls}


def make_impaired(seed: int, work: Path, out: Path) -> dict:
    # The phones use the relay's port numbers on their own addresses: SIPp puts its -mp port in
    # the m= line (and sends RTP from it), the c= line announces the relay's address.
    caller = Party("101", PHONES["101"].name, PHONES["101"].ip, RELAY_PORT_A)
    callee = Party("102", PHONES["102"].name, PHONES["102"].ip, RELAY_PORT_B)
    s1, s2, script = scripted_streams(seed, "impaired", IMPAIRED_SCRIPT, caller, callee, "PCMA",
                                      work)
    relay_seed = sub_seed(seed, "impaired", "relay")
    report = work / "relay-report.json"
    ready = work / "relay.ready"
    cfilter = (f"udp and (((host {caller.ip} or host {callee.ip}) and port 5060) or "
               f"(src host {RELAY_IP} and (port {RELAY_PORT_A} or port {RELAY_PORT_B})))")
    relay = subprocess.Popen(
        [*realtime_prefix(), sys.executable, str(RELAY), "--ip", RELAY_IP,
         "--port-a", str(RELAY_PORT_A),
         "--port-b", str(RELAY_PORT_B), "--caller", f"{caller.ip}:{caller.media_port}",
         "--callee", f"{callee.ip}:{callee.media_port}", "--seed", str(relay_seed),
         "--loss", str(IMPAIRMENT["loss"]), "--delay", str(IMPAIRMENT["base_delay_ms"]),
         "--jitter", str(IMPAIRMENT["jitter_ms"]), "--report", str(report),
         "--ready-file", str(ready), "--idle", "120"])
    try:
        for _ in range(100):
            if ready.exists():
                break
            time.sleep(0.05)
        with Dumpcap(out, cfilter, pcapng=True):
            call_id = _answered_call(seed, work, "impaired", caller, callee, "PCMA", s1, s2,
                                     int(s1.duration_ms) + 400, sdp_caller=RELAY_IP,
                                     sdp_callee=RELAY_IP)
            time.sleep(0.3)
    finally:
        relay.terminate()
        relay.wait(timeout=30)
    rep = json.loads(report.read_text())
    directions = {
        name: {k: v for k, v in d.items() if k != "delays_ms"}
        | {"mean_delay_ms": round(sum(d["delays_ms"]) / max(1, len(d["delays_ms"])), 3)}
        for name, d in rep["directions"].items()
    }
    return {"seeds": {"seed": seed, "audio_101": sub_seed(seed, "impaired", "101"),
                      "audio_102": sub_seed(seed, "impaired", "102"), "relay": relay_seed},
            "impairment": {
                "tool": "scripts/udp_relay.py",
                "relay": f"{RELAY_IP} ports {RELAY_PORT_A} (announced as 101's media) and "
                         f"{RELAY_PORT_B} (announced as 102's media)",
                "loss_probability": IMPAIRMENT["loss"],
                "base_delay_ms": IMPAIRMENT["base_delay_ms"],
                "jitter": f"extra delay uniform in [0, {IMPAIRMENT['jitter_ms']}] ms per packet, "
                          "release scheduled on the RTP clock",
                "seed": relay_seed, "directions": directions},
            "calls": [{"call_id": call_id, "from": "101", "to": "102", "outcome": "answered"}],
            "conversation": script,
            "streams_sent": [_stream_info(s1, "PCMA", caller, callee),
                             _stream_info(s2, "PCMA", callee, caller)]}


MAKERS = {"register": make_register, "call": make_call, "ivr": make_ivr, "failed": make_failed,
          "impaired": make_impaired}


# --------------------------------------------------------------------------- statistics

def tshark(*args: str) -> str:
    env = dict(os.environ, LC_ALL="C")
    return subprocess.run(["tshark", *args], check=True, capture_output=True, text=True,
                          env=env).stdout


def sip_messages(path: Path) -> list[dict]:
    out = tshark("-r", str(path), "-Y", "sip", "-T", "fields", "-E", "separator=|",
                 "-e", "frame.number", "-e", "ip.src", "-e", "ip.dst", "-e", "sip.Method",
                 "-e", "sip.Status-Code", "-e", "sip.CSeq", "-e", "sip.Call-ID")
    msgs = []
    for line in out.splitlines():
        frame, src, dst, method, status, cseq, call_id = line.split("|")
        msgs.append({"frame": int(frame), "src": src, "dst": dst,
                     "message": method or status, "cseq": cseq, "call_id": call_id})
    return msgs


def dtmf_digits(path: Path) -> str:
    out = tshark("-r", str(path), "-Y", "rtpevent", "-T", "fields", "-E", "separator=|",
                 "-e", "rtp.ssrc", "-e", "rtp.timestamp", "-e", "rtpevent.event_id")
    names = {v: k for k, v in DTMF_EVENTS.items()}
    digits, seen = [], set()
    for line in out.splitlines():
        ssrc, ts, event = line.split("|")
        if (ssrc, ts) not in seen:
            seen.add((ssrc, ts))
            digits.append(names[int(event)])
    return "".join(digits)


def describe(spec: Spec, path: Path, info: dict) -> dict:
    rtp_text = tshark("-n", "-q", "-r", str(path), "-z", "rtp,streams")
    sip_text = tshark("-n", "-q", "-r", str(path), "-z", "sip,stat")
    frames = int(tshark("-r", str(path), "-T", "fields", "-e", "frame.number").split()[-1])
    rows = [ln for ln in rtp_text.splitlines()[2:-1] if ln.strip()]
    msgs = sip_messages(path)
    entry = {
        "file": spec.file, "format": "pcapng" if spec.pcapng else "pcap",
        "title": spec.title, "description": spec.description, "shows": spec.shows,
        "bytes": path.stat().st_size, "packets": frames,
        "sip_messages": [m["message"] for m in msgs],
        "rtp_streams": len(rows),
        **info,
        "content_digest": pcaptool.content_digest(str(path)),
        "tshark": {"version": tshark_version(), "rtp_streams": rtp_text, "sip_stat": sip_text},
    }
    if spec.name == "ivr":
        entry["dtmf"]["tshark_digits"] = dtmf_digits(path)
    return entry


def tshark_version() -> str:
    return tshark("--version").splitlines()[0].split()[2]


def tool_version(cmd: list[str], word: int) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True).stdout.split()
    return out[word] if out else "?"


def sipp_version() -> str:
    out = subprocess.run(["sipp", "-v"], capture_output=True, text=True).stdout
    return next((w for w in out.split() if w.startswith("v")), "?").split("-")[0].lstrip("v")


def write_json_atomic(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate lab 03's sample captures on loopback.")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out-dir", type=Path, default=ROOT / "data",
                    help="data directory (captures/ and manifest.json are written there)")
    ap.add_argument("--only", action="append", choices=sorted(MAKERS),
                    help="generate only these captures (repeatable)")
    ap.add_argument("--check", action="store_true",
                    help="compare content digests with the manifest in data/ instead of "
                         "updating it (use with --out-dir elsewhere)")
    ap.add_argument("--keep-work", action="store_true", help="keep SIPp logs and play files")
    args = ap.parse_args(argv)

    for tool in ("sipp", "dumpcap", "tshark", "espeak-ng", "sox"):
        if not shutil.which(tool):
            print(f"error: {tool} not found", file=sys.stderr)
            return 2
    names = args.only or list(MAKERS)
    out_dir: Path = args.out_dir
    (out_dir / "captures").mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    reference_path = ROOT / "data" / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    entries = {e["name"]: e for e in manifest.get("captures", [])}

    failures = 0
    for name in names:
        spec = SPECS[name]
        work = Path(tempfile.mkdtemp(prefix=f"toipkit-cap-{name}-"))
        final = out_dir / spec.file
        tmp_out = work / Path(spec.file).name
        print(f"[{name}] generating {spec.file} ...", flush=True)
        try:
            info = MAKERS[name](args.seed, work, tmp_out)
            os.chmod(tmp_out, 0o644)
            entry = {"name": name, **describe(spec, tmp_out, info)}
            if entry["bytes"] > 2 * 1024 * 1024:
                raise RuntimeError(f"{spec.file} is larger than 2 MB")
            shutil.move(str(tmp_out), final.with_suffix(final.suffix + ".tmp"))
            os.replace(final.with_suffix(final.suffix + ".tmp"), final)
        finally:
            if not args.keep_work:
                shutil.rmtree(work, ignore_errors=True)
        print(f"[{name}] {entry['packets']} packets, {entry['bytes']} bytes, "
              f"{entry['rtp_streams']} RTP streams, digest {entry['content_digest']['sha256'][:16]}")
        if args.check:
            ref = json.loads(reference_path.read_text())
            ref_entry = next((e for e in ref["captures"] if e["name"] == name), None)
            same = ref_entry is not None and (
                ref_entry["content_digest"]["sha256"] == entry["content_digest"]["sha256"])
            print(f"[{name}] content {'identical to' if same else 'DIFFERS from'} "
                  f"{reference_path.relative_to(ROOT)}")
            failures += not same
        entries[name] = entry

    manifest = {
        "generator": "scripts/make_captures.py",
        "regenerate": "sudo .venv/bin/python scripts/make_captures.py  (see docs/captures.md)",
        "seed": args.seed,
        "tools": {"tshark": tshark_version(), "sipp": sipp_version(),
                  "espeak-ng": tool_version(["espeak-ng", "--version"], 3),
                  "sox": tool_version(["sox", "--version"], -1).lstrip("v")},
        "determinism": "Same seed => same content: every SIP message and RTP packet (headers and "
                       "payload) per UDP flow, in the same order within each flow, and the same "
                       "packets dropped by the relay (content_digest). Timestamps differ between "
                       "runs, so the delta/jitter columns and the interleaving of flows differ.",
        "parties": {p.number: {"name": p.name, "ip": p.ip, "media_port": p.media_port}
                    for p in [*PHONES.values(), XIVO]},
        "domain": DOMAIN,
        "captures": [entries[n] for n in MAKERS if n in entries],
    }
    write_json_atomic(manifest_path, manifest)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
