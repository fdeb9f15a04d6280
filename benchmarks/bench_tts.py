"""Benchmark: render 20 French IVR prompts, cold (empty cache) and warm (cache hits).

Targets (issue 5): cold ≤ 3 s, warm ≤ 0.1 s for the 20 prompts in 4 formats
(wav 8 kHz, ulaw, alaw, sln16). Reference: the ``espeak-ng`` command run once per prompt
(WAV at 22.05 kHz only, no conversion), and the same plus ``sox`` for the 4 Asterisk formats (what
a shell script would do). Prints reference time, ours, ratios and peak RSS.

    .venv/bin/python benchmarks/bench_tts.py
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMPTS = [
    "Bonjour et bienvenue chez Arasaka I.",
    "Pour joindre l'accueil, tapez 1.",
    "Pour joindre le service support, tapez 2.",
    "Pour joindre le service communication, tapez 3.",
    "Pour joindre madame Hanako Arasaka, tapez 4.",
    "Pour réentendre ce message, tapez étoile.",
    "Entrée invalide.",
    "Nous n'avons pas reçu votre choix.",
    "Merci de patienter, nous recherchons votre correspondant.",
    "Tous nos conseillers sont en ligne, merci de rappeler plus tard.",
    "Nos bureaux sont ouverts du lundi au vendredi, de neuf heures à dix-sept heures.",
    "Votre appel va être transféré.",
    "Le poste demandé ne répond pas.",
    "Veuillez laisser un message après le bip sonore.",
    "Au revoir et à bientôt.",
    "Pour joindre la conférence Afterlife, tapez 5.",
    "Ce service est momentanément indisponible.",
    "Composez le numéro de poste de votre correspondant.",
    "Vous êtes en communication avec le support technique.",
    "Cet appel peut être enregistré à des fins de qualité.",
]
FORMATS = ("wav", "ulaw", "alaw", "sln16")
COLD_BUDGET_S = 3.0
WARM_BUDGET_S = 0.1


def _peak_rss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux: kilobytes


def _reference(tmp: Path, with_sox: bool) -> float | None:
    espeak = shutil.which("espeak-ng")
    sox = shutil.which("sox")
    if espeak is None or (with_sox and sox is None):
        return None
    start = time.perf_counter()
    for i, text in enumerate(PROMPTS):
        wav = tmp / f"ref{i}.wav"
        subprocess.run([espeak, "-v", "fr", "-w", str(wav), text], check=True,
                       capture_output=True)
        if with_sox:
            for args, ext in ((["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"],
                               "wav"),
                              (["-r", "8000", "-c", "1", "-t", "ul"], "ulaw"),
                              (["-r", "8000", "-c", "1", "-t", "al"], "alaw"),
                              (["-r", "16000", "-c", "1", "-t", "raw", "-e", "signed-integer",
                                "-b", "16"], "sln16")):
                subprocess.run([sox, "-D", str(wav), *args, str(tmp / f"ref{i}-8k.{ext}")],
                               check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="toipkit-bench-tts-") as tmp_name:
        tmp = Path(tmp_name)
        os.environ["TOIPKIT_HOME"] = str(tmp / "home")
        t0 = time.perf_counter()
        from toipkit.tts import Prompt, render_prompts

        import_s = time.perf_counter() - t0
        prompts = [Prompt(f"bench-{i:02d}", text) for i, text in enumerate(PROMPTS)]

        start = time.perf_counter()
        manifest = render_prompts(prompts, tmp / "cold", formats=FORMATS)
        cold = time.perf_counter() - start

        start = time.perf_counter()
        render_prompts(prompts, tmp / "warm", formats=FORMATS)
        warm = time.perf_counter() - start          # cache hits, files placed in a new folder

        start = time.perf_counter()
        render_prompts(prompts, tmp / "warm", formats=FORMATS)
        rerender = time.perf_counter() - start      # cache hits, folder already up to date

        audio_s = sum(e.duration for e in manifest.values())
        ref_plain = _reference(tmp, with_sox=False)
        ref_sox = _reference(tmp, with_sox=True)

    print(f"toipkit tts benchmark: {len(PROMPTS)} French prompts × {len(FORMATS)} formats "
          f"({', '.join(FORMATS)}), {audio_s:.1f} s of speech")
    print(f"  import toipkit.tts              : {import_s:7.3f} s")
    print(f"  ours, cold (empty cache)        : {cold:7.3f} s   (budget {COLD_BUDGET_S} s)")
    print(f"  ours, warm (cache hits)         : {warm:7.3f} s   (budget {WARM_BUDGET_S} s; "
          f"into a new folder)")
    print(f"  ours, warm re-render same folder: {rerender:7.3f} s")
    if ref_plain is not None:
        print(f"  reference espeak-ng command     : {ref_plain:7.3f} s   (22.05 kHz WAV only)  "
              f"ratio ours-cold/ref = {cold / ref_plain:.2f}, ours-warm/ref = "
              f"{warm / ref_plain:.3f}")
    if ref_sox is not None:
        print(f"  reference espeak-ng + sox ×4    : {ref_sox:7.3f} s   (same 4 formats)       "
              f"ratio ours-cold/ref = {cold / ref_sox:.2f}")
    print(f"  peak RSS: this process {_peak_rss_mb():.0f} MB, "
          f"children {_peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB")
    ok = cold <= COLD_BUDGET_S and warm <= WARM_BUDGET_S
    print("  result: " + ("OK" if ok else "OVER BUDGET"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
