"""Fixtures for the TTS tests: an isolated TOIPKIT_HOME (cache) and the handout's [ivr]."""

from __future__ import annotations

from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seed" / "000_b4c507750b56f12a.txt"

# The [ivr] context of the handout (§17), used when ../shared is absent.
IVR_FALLBACK = """\
[ivr]
exten => s,1,Answer()
exten => s,2,Set(TIMEOUT(response)=20)
exten => s,3,agi(googletts.agi,"Bonjour et bienvenue chez Arasaka I",fr,any)
exten => s,4,agi(googletts.agi,"Pour joindre l'accueil, tapez 1.",fr,any)
exten => s,5,agi(googletts.agi,"Pour joindre le service technique, tapez 2.",fr,any)
exten => s,6,agi(googletts.agi,"Pour joindre le service communication, tapez 3.",fr,any)
exten => s,7,agi(googletts.agi,"Pour joindre le service administratif, tapez 4.",fr,any)
exten => s,8,agi(googletts.agi,"Pour joindre madame Hanako Arasaka, tapez 5.",fr,any)
exten => s,9,WaitExten()
exten => 1,1,SayNumber(1)
exten => 1,2,Goto(default,201,1)
exten => _[06-9*#],1,NoOp(Caractère invalide pressé : ${EXTEN})
exten => _[06-9*#],2,GotoIf($["${EXTEN}"="*"]?say_star)
exten => say_star,1,agi(googletts.agi,"étoile",fr,any)
exten => say_star,2,Goto(ivr,say_invalid)
exten => say_invalid,1,agi(googletts.agi,"Entrée invalide",fr,any)
exten => say_invalid,2,Goto(ivr,s,1)
exten => t,1,Goto(ivr,s,3)
"""


@pytest.fixture(autouse=True, scope="module")
def _isolated_home(tmp_path_factory):
    """Every TTS test module renders into a private cache, never ~/.toipkit (module scope, so
    the variable is restored before other test directories run)."""
    home = tmp_path_factory.mktemp("toipkit-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("TOIPKIT_HOME", str(home))
    yield home
    mp.undo()


@pytest.fixture(scope="session")
def handout_ivr() -> str:
    """The [ivr] context of the handout §17: data/dialplans (verbatim copy), else ../shared."""
    from toipkit.dialplan import handout_path

    shipped = handout_path("handout-s17-ivr.conf")
    if shipped.exists():
        return shipped.read_text(encoding="utf-8")
    if SEED.exists():
        text = SEED.read_text(encoding="utf-8")
        return text.split("### 17. Fichier final [ivr]", 1)[1].split("```asterisk", 1)[1] \
            .split("```", 1)[0].lstrip("\n")
    return IVR_FALLBACK
