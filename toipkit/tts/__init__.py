"""Offline French speech prompts for Asterisk IVRs.

Public API::

    from toipkit import tts
    tts.say("Bienvenue chez Arasaka", "bienvenue.wav")          # 8 kHz 16-bit mono WAV
    tts.say("Tapez 1", "menu.ulaw", lang="fr")                    # raw G.711 µ-law
    audio = tts.synthesize("Bonjour")                              # Audio, shows as a player
    manifest = tts.render_prompts([tts.Prompt("ivr-accueil", "Bonjour")], "sounds/")
    result = tts.from_dialplan(dialplan, "sounds/")               # googletts.agi → Background
    result.dialplan.to_text(); result.manifest["custom/ivr-accueil"].duration
    tts.ulaw_encode(samples); tts.alaw_decode(codes)               # numpy G.711

Default engine: eSpeak NG from the ``espeakng-loader`` wheel (GPL-3.0-or-later), no network.
Everything is imported lazily so that ``toipkit --help`` stays fast.
"""

from __future__ import annotations

from toipkit._lazy import lazy_exports

_EXPORTS = {
    # audio
    "Audio": "toipkit.tts.audio",
    "SoundFormat": "toipkit.tts.audio",
    "FORMATS": "toipkit.tts.audio",
    "DEFAULT_FORMATS": "toipkit.tts.audio",
    "get_format": "toipkit.tts.audio",
    "formats_frame": "toipkit.tts.audio",
    "read_sound": "toipkit.tts.audio",
    "sound_duration": "toipkit.tts.audio",
    "resample": "toipkit.tts.audio",
    "normalise": "toipkit.tts.audio",
    "trim_silence": "toipkit.tts.audio",
    "plot_waveform": "toipkit.tts.audio",
    # G.711
    "ulaw_encode": "toipkit.tts.g711",
    "ulaw_decode": "toipkit.tts.g711",
    "alaw_encode": "toipkit.tts.g711",
    "alaw_decode": "toipkit.tts.g711",
    # engines
    "VoiceSettings": "toipkit.tts.engines",
    "Engine": "toipkit.tts.engines",
    "get_engine": "toipkit.tts.engines",
    "available_engines": "toipkit.tts.engines",
    "quiet_stderr": "toipkit.tts.engines",
    # prompts
    "synthesize": "toipkit.tts.prompts",
    "say": "toipkit.tts.prompts",
    "tts_duration": "toipkit.tts.prompts",
    "render_text": "toipkit.tts.prompts",
    "render_prompts": "toipkit.tts.prompts",
    "render_batch": "toipkit.tts.prompts",
    "load_prompts": "toipkit.tts.prompts",
    "Prompt": "toipkit.tts.prompts",
    "PromptEntry": "toipkit.tts.prompts",
    "Manifest": "toipkit.tts.prompts",
    "PromptCache": "toipkit.tts.prompts",
    "Processing": "toipkit.tts.prompts",
    "clean_text": "toipkit.tts.prompts",
    "slugify": "toipkit.tts.prompts",
    # dialplan
    "from_dialplan": "toipkit.tts.ivr",
    "find_tts_calls": "toipkit.tts.ivr",
    "DialplanPrompts": "toipkit.tts.ivr",
    "TTSCall": "toipkit.tts.ivr",
    "listen": "toipkit.tts.ivr",
    "TTSError": "toipkit.errors",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
