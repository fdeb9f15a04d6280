"""Dialplan linter: what Asterisk would do wrong with this dialplan, at its line, with a fix.

``lint(dialplan, lang="fr")`` returns a :class:`Findings` list (rule id, severity, position,
message, hint). Messages exist in French (students) and English.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from toipkit.dialplan.apps import DEPRECATED_APPS, REMOVED_APPS, why_fr
from toipkit.dialplan.catalog import APPS as CATALOG_APPS
from toipkit.dialplan.catalog import VARIABLES as CATALOG_VARIABLES
from toipkit.dialplan.catalog import VERSIONS, app_versions, parse_versions, version_label
from toipkit.dialplan.jumps import (
    JUMP_APPS,
    gosub_label,
    parse_location,
    static_branches,
    static_destinations,
)
from toipkit.dialplan.lookup import find_priority
from toipkit.dialplan.model import (
    Context,
    Dialplan,
    Extension,
    Priority,
    split_args,
)
from toipkit.dialplan.patterns import match, match_more, pattern_error

__all__ = ["lint", "Finding", "Findings", "Rule", "RULES", "SEVERITIES"]

SEVERITIES = ("error", "warning", "info")
_SEV_ORDER = {s: i for i, s in enumerate(SEVERITIES)}

SOUND_DIRS = ("/var/lib/asterisk/sounds/", "/usr/share/asterisk/sounds/",
              "/var/lib/xivo/sounds/", "/usr/share/xivo/sounds/", "/var/lib/wazo/sounds/")


@dataclass
class Finding:
    rule: str
    severity: str  # error, warning, info
    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    context: str | None = None
    exten: str | None = None
    # Asterisk versions (of the ones linted for) where the finding holds, when not all of them.
    versions: str = ""

    def short(self) -> str:
        """Like str() with the file's base name only (stable across checkouts)."""
        h = f" ({self.hint})" if self.hint else ""
        return (f"{os.path.basename(self.file)}:{self.line}:{self.column}: {self.severity} "
                f"[{self.rule}] {self.message}{h}")

    def __str__(self) -> str:
        h = f" ({self.hint})" if self.hint else ""
        return f"{self.file}:{self.line}:{self.column}: {self.severity} [{self.rule}] " \
               f"{self.message}{h}"


class Findings(list):
    """A list of :class:`Finding` that shows as a table in Jupyter."""

    def to_frame(self):
        import pandas as pd

        cols = ["line", "column", "severity", "rule", "message", "hint", "context", "exten",
                "file"]
        return pd.DataFrame([asdict(f) for f in self], columns=cols)

    def rules(self) -> set[str]:
        return {f.rule for f in self}

    def at(self, line: int) -> list[Finding]:
        return [f for f in self if f.line == line]

    def _repr_html_(self) -> str:
        """The table as escaped HTML: a ``$`` or ``*`` in a dialplan stays as written (Markdown
        would start LaTeX math or emphasis), and long texts wrap instead of being cut off."""
        from toipkit.dialplan.messages import findings_html

        return findings_html(self)

    def _repr_markdown_(self) -> str:
        if not self:
            return "✅ aucun problème / no problem found"
        icon = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}
        rows = ["| ligne | | règle | message | correction |", "|---|---|---|---|---|"]
        for f in self:
            rows.append(f"| {f.line} | {icon.get(f.severity, '')} | `{f.rule}` | "
                        f"{_md(f.message)} | {_md(f.hint)} |")
        return "\n".join(rows)

    def __str__(self) -> str:
        return "\n".join(str(f) for f in self)

    def __repr__(self) -> str:
        if not self:
            return "Findings([])"
        return "\n".join(f.short() for f in self)


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True)
class Rule:
    """A lint rule: its id, default severity and its texts (``str.format`` templates filled
    with the finding's parameters) in French and English."""

    id: str
    severity: str  # error, warning, info
    message_fr: str
    message_en: str
    hint_fr: str = ""
    hint_en: str = ""

    def texts(self, lang: str, **params: Any) -> tuple[str, str]:
        """(message, hint) in ``lang`` ("fr" or "en")."""
        if lang == "fr":
            return self.message_fr.format(**params), self.hint_fr.format(**params)
        return self.message_en.format(**params), self.hint_en.format(**params)


_RULE_LIST = (
    Rule("syntax", "error", "{msg}", "{msg}", "{hint}", "{hint}"),
    Rule("duplicate-priority",
        "error",
        "priorité {prio} déjà utilisée dans l'extension {ext} (ligne {other}) : Asterisk ignore "
        "cette ligne",
        "priority {prio} already used in extension {ext} (line {other}): Asterisk ignores this "
        "line",
        "changer le numéro ou utiliser « same => n,... »",
        "change the number or use 'same => n,...'"),
    Rule("duplicate-label", "error", "label « {label} » défini deux fois dans l'extension {ext}",
                        "label '{label}' defined twice in extension {ext}",
                        "renommer l'un des deux labels", "rename one of the labels"),
    Rule("duplicate-hint", "warning", "deuxième hint pour l'extension {ext}, ignoré",
                       "second hint for extension {ext}, ignored", "", ""),
    Rule("unknown-directive", "warning", "{msg}", "{msg}",
                          "utiliser exten =>, same =>, include =>, switch => ou ignorepat =>",
                          "use exten =>, same =>, include =>, switch => or ignorepat =>"),
    Rule("no-closing-paren", "warning", "parenthèse fermante manquante après {app}(",
                         "missing closing parenthesis after {app}(", "ajouter « ) »",
                         "add ')'"),
    Rule("directive", "warning", "{msg}", "{msg}", "", ""),
    Rule("exec", "warning", "#exec n'est exécuté qu'avec execincludes=yes dans asterisk.conf",
             "#exec only runs with execincludes=yes in asterisk.conf", "", ""),
    Rule("unterminated-comment", "error", "commentaire ;-- jamais fermé par --;",
                             "block comment ;-- never closed with --;",
                             "ajouter --; à la fin du commentaire", "add --; after the comment"),
    Rule("removed-app",
        "error",
        "l'application {app} n'existe plus ({why}) : à l'exécution Asterisk écrit « No "
        "application '{app}' » et raccroche",
        "application {app} no longer exists ({why}): at run time Asterisk logs \"No application "
        "'{app}'\" and hangs up",
        "remplacer par {repl}", "replace with {repl}"),
    Rule("deprecated-app", "warning", "l'application {app} est dépréciée ({why})",
                       "application {app} is deprecated ({why})",
                       "préférer {repl}", "prefer {repl}"),
    Rule("unknown-app",
        "error",
        "application « {app} » inconnue d'Asterisk (faute de frappe ?) : l'appel serait "
        "raccroché",
        "application '{app}' unknown to Asterisk (typo?): the call would be hung up",
        "vérifier le nom{suggest} (core show applications)",
        "check the name{suggest} (core show applications)"),
    Rule("third-party-app",
        "warning",
        "application « {app} » absente d'Asterisk (versions {span}) : elle doit venir d'un module "
        "tiers, sinon l'appel serait raccroché",
        "application '{app}' is not in Asterisk (versions {span}): it must come from a third-party "
        "module, otherwise the call would be hung up",
        "déclarer le module : « ; toipkit: apps={app} » dans le fichier (ou lint(apps=...))",
        "declare it: '; toipkit: apps={app}' in the file (or lint(apps=...))"),
    Rule("app-version",
        "error",
        "l'application {app} n'existe pas dans Asterisk {missing} (elle existe dans les versions "
        "{present}) : « No application '{app}' », l'appel est raccroché",
        "application {app} does not exist in Asterisk {missing} (it exists in versions "
        "{present}): \"No application '{app}'\", the call is hung up",
        "utiliser une version d'Asterisk qui l'a, ou une autre application",
        "use an Asterisk version that has it, or another application"),
    Rule("app-space",
        "error",
        "espace avant la parenthèse : Asterisk cherche une application nommée « {app} » (avec "
        "l'espace), qui n'existe pas → l'appel est raccroché",
        "space before the parenthesis: Asterisk looks for an application named '{app}' (with "
        "the space), which does not exist → the call is hung up",
        "écrire {fixed}(...) sans espace", "write {fixed}(...) with no space"),
    Rule("old-syntax",
        "error",
        "ancienne syntaxe « {text} » : Asterisk cherche une application nommée « {app} »",
        "old syntax '{text}': Asterisk looks for an application named '{app}'",
        "écrire {fixed}", "write {fixed}"),
    Rule("goto-context",
        "error",
        "{app} vers le contexte [{ctx}] qui n'existe pas : l'appel sera raccroché (« sent to "
        "invalid extension but no invalid handler »)",
        "{app} to context [{ctx}] which does not exist: the call will be hung up (\"sent to "
        "invalid extension but no invalid handler\")",
        "créer [{ctx}] ou corriger le nom", "create [{ctx}] or fix the name"),
    Rule("goto-extension",
        "error",
        "{app} vers l'extension {ext} absente de [{ctx}] : pas de « i » dans [{ctx}], l'appel "
        "sera raccroché",
        "{app} to extension {ext} missing from [{ctx}]: no 'i' in [{ctx}], the call will be hung "
        "up",
        "définir exten => {ext},1,... dans [{ctx}] (ou vérifier le numéro)",
        "define exten => {ext},1,... in [{ctx}] (or check the number)"),
    Rule("goto-priority",
        "error",
        "{app} vers {ctx},{ext},{prio} : l'extension existe mais pas la priorité {prio} "
        "(autofallthrough → raccroché)",
        "{app} to {ctx},{ext},{prio}: the extension exists but not priority {prio} "
        "(autofallthrough → hangup)",
        "sauter vers une priorité existante (souvent 1)", "jump to an existing priority (often 1)"),
    Rule("goto-label",
        "error",
        "{app} : « {prio} » n'est ni un numéro ni un label de l'extension {ext} de [{ctx}] : "
        "« Priority '{prio}' must be a number > 0, or valid label », l'appel est raccroché",
        "{app}: '{prio}' is neither a number nor a label of extension {ext} in [{ctx}]: "
        "\"Priority '{prio}' must be a number > 0, or valid label\", the call is hung up",
        "{fix}", "{fix}"),
    Rule("goto-label-is-extension",
        "error",
        "{app} : « {dest} » seul désigne une priorité/un label de l'extension courante, pas "
        "l'extension {prio} ; aucun label « {prio} » ici → l'appel est raccroché",
        "{app}: a lone '{dest}' is a priority/label of the current extension, not extension "
        "{prio}; there is no label '{prio}' here → the call is hung up",
        "écrire {fix}", "write {fix}"),
    Rule("goto-arguments",
        "error",
        "{app}({dest}) à deux arguments = extension « {ext} », priorité « {prio} » (pas "
        "contexte,extension) : pas d'extension {ext} dans [{ctx}] → l'appel est raccroché",
        "{app}({dest}) with two arguments = extension '{ext}', priority '{prio}' (not "
        "context,extension): no extension {ext} in [{ctx}] → the call is hung up",
        "écrire {fix}", "write {fix}"),
    Rule("condition-not-expression",
        "error",
        "{app} : « {cond} » n'est pas calculé (pas de $[ ]) : Asterisk ne lit que le nombre du "
        "début (pbx_checkcondition), « 0=1 » est faux et « 1=2 » vrai",
        "{app}: '{cond}' is not evaluated (no $[ ]): Asterisk only reads its leading number "
        "(pbx_checkcondition), '0=1' is false and '1=2' true",
        "écrire {fix}", "write {fix}"),
    Rule("goto-whitespace",
        "error", "espaces dans la destination « {dest} » : Asterisk ne les enlève pas, il cherche "
        "le nom avec ses espaces et ne le trouve pas",
        "spaces in destination '{dest}': Asterisk does not strip them, it looks for the name "
        "with its spaces and does not find it",
        "écrire {fix}", "write {fix}"),
    Rule("include-context",
        "error", "include => {ctx} : ce contexte n'existe pas",
        "include => {ctx}: this context does not exist",
        "créer [{ctx}] ou supprimer l'include", "create [{ctx}] or remove the include"),
    Rule("missing-priority-1",
        "error",
        "l'extension {ext} n'a pas de priorité 1 : elle n'existe pas pour Asterisk (appel "
        "invalide)",
        "extension {ext} has no priority 1: Asterisk treats it as missing (invalid extension)",
        "numéroter à partir de 1", "number from 1"),
    Rule("priority-gap",
        "error",
        "trou dans la numérotation de {ext} : après la priorité {prev} vient {next}, "
        "l'exécution s'arrête à {prev} (autofallthrough)",
        "gap in the numbering of {ext}: priority {prev} is followed by {next}, execution stops "
        "after {prev} (autofallthrough)",
        "utiliser « same => n,... » au lieu de numéros", "use 'same => n,...' instead of numbers"),
    Rule("explicit-numbering",
        "info",
        "priorités numérotées à la main dans {ext} : une ligne oubliée ou insérée casse la suite",
        "hand-numbered priorities in {ext}: a missing or inserted line breaks the sequence",
        "écrire « exten => {ext},1,... » puis « same => n,... »",
        "write 'exten => {ext},1,...' then 'same => n,...'"),
    Rule("background-no-wait",
        "warning",
        "{app} est la dernière priorité de {ext} : avec autofallthrough=yes l'appel est "
        "raccroché dès la fin de l'annonce, l'appelant n'a que sa durée pour taper",
        "{app} is the last priority of {ext}: with autofallthrough=yes the call is hung up as "
        "soon as the prompt ends, the caller only has its duration to press a key",
        "ajouter « same => n,WaitExten(5) »", "add 'same => n,WaitExten(5)'"),
    Rule("dead-end",
        "warning",
        "l'extension {ext} se termine par {app} sans saut : après l'annonce l'appel est "
        "raccroché (autofallthrough)",
        "extension {ext} ends with {app} and no jump: after the prompt the call is hung up "
        "(autofallthrough)",
        "ajouter « same => n,Goto({back}) »", "add 'same => n,Goto({back})'"),
    Rule("ivr-no-i",
        "warning",
        "menu [{ctx}] sans extension « i » : les touches {keys} ne mènent nulle part (« Invalid "
        "extension, but no rule 'i' or 'e' » → raccroché)",
        "menu [{ctx}] has no 'i' extension: keys {keys} lead nowhere (\"Invalid extension, but no "
        "rule 'i' or 'e'\" → hangup)",
        "ajouter exten => i,1,Playback(...) puis same => n,Goto(s,1)",
        "add exten => i,1,Playback(...) then same => n,Goto(s,1)"),
    Rule("ivr-no-t",
        "warning",
        "menu [{ctx}] sans extension « t » : si l'appelant ne tape rien, « Timeout but no rule "
        "'t' or 'e' » → raccroché",
        "menu [{ctx}] has no 't' extension: if the caller presses nothing, \"Timeout but no rule "
        "'t' or 'e'\" → hangup",
        "ajouter exten => t,1,... (avec un compteur d'essais)",
        "add exten => t,1,... (with a retry counter)"),
    Rule("t-unreachable",
        "warning",
        "l'extension « t » de [{ctx}] ne peut jamais servir : aucun WaitExten dans le contexte "
        "et autofallthrough=yes raccroche à la fin de l'annonce",
        "extension 't' of [{ctx}] can never run: no WaitExten in the context and "
        "autofallthrough=yes hangs up when the prompt ends",
        "ajouter WaitExten() après Background", "add WaitExten() after Background"),
    Rule("endless-loop",
        "warning",
        "boucle sans fin : {ext} renvoie vers {dest} sans compteur d'essais ni Hangup — un "
        "appelant muet tourne indéfiniment",
        "endless loop: {ext} jumps back to {dest} with no retry counter nor Hangup — a silent "
        "caller loops forever",
        "compter les essais (Set(ESSAIS=$[${{ESSAIS}}+1]), GotoIf($[${{ESSAIS}}>=3]?fin,1)) puis "
        "Hangup()",
        "count the tries (Set(TRIES=$[${{TRIES}}+1]), GotoIf($[${{TRIES}}>=3]?end,1)) then "
        "Hangup()"),
    Rule("goto-loop",
        "error",
        "boucle infinie : ce {app} ramène à {dest} sans rien attendre ni tester — Asterisk tourne "
        "sans fin",
        "infinite loop: this {app} leads back to {dest} without waiting or testing anything — "
        "Asterisk spins forever",
        "ajouter une condition (GotoIf) ou une attente (WaitExten), ou sortir par Hangup()",
        "add a condition (GotoIf) or a wait (WaitExten), or leave with Hangup()"),
    Rule("variable-unset",
        "warning",
        "la variable ${{{var}}} est utilisée mais jamais définie{why} : elle vaut « »",
        "variable ${{{var}}} is used but never set{why}: it expands to ''",
        "la définir dans [globals] (ou avec Set)", "set it in [globals] (or with Set)"),
    Rule("sounds-path",
        "warning",
        "chemin de sons « {path} » hors du dossier d'Asterisk (/var/lib/asterisk/sounds) : les "
        "fichiers ne seront pas trouvés",
        "sounds path '{path}' outside Asterisk's folder (/var/lib/asterisk/sounds): files will "
        "not be found",
        "mettre les sons dans /var/lib/asterisk/sounds/fr/custom et écrire custom/nom",
        "put the sounds in /var/lib/asterisk/sounds/fr/custom and write custom/name"),
    Rule("sound-extension",
        "warning",
        "« {name} » : Playback/Background prennent le nom sans extension de fichier",
        "'{name}': Playback/Background take the name without a file extension",
        "écrire {fixed}", "write {fixed}"),
    Rule("say-language",
        "info",
        "{app} utilise la langue du canal (par défaut « en ») : les chiffres seront dits en "
        "anglais",
        "{app} uses the channel language (default 'en'): digits will be spoken in English",
        "Set(CHANNEL(language)=fr) au début (et installer les sons français)",
        "Set(CHANNEL(language)=fr) first (and install the French sounds)"),
    Rule("external-dependency",
        "info",
        "{script} dépend d'Internet (service Google non officiel), de perl/LWP, sox et mpg123 "
        "au moment de l'appel",
        "{script} needs the Internet (unofficial Google service), perl/LWP, sox and mpg123 at "
        "call time",
        "pré-générer les annonces (toipkit tts) et utiliser Background(custom/...)",
        "pre-generate the prompts (toipkit tts) and use Background(custom/...)"),
    Rule("orphan-context",
        "info",
        "le contexte [{ctx}] n'est atteint par aucun Goto/include depuis {entries}",
        "context [{ctx}] is not reached by any Goto/include from {entries}",
        "y envoyer les appels (Goto, include, ou context={ctx} sur une ligne SIP)",
        "route calls to it (Goto, include, or context={ctx} on a SIP line)"),
    Rule("pattern-invalid", "error", "motif {ext} invalide : {why}", "invalid pattern {ext}: {why}",
                        "fermer le crochet ]", "close the bracket ]"),
    Rule("pattern-catchall",
        "warning",
        "motif {ext} déconseillé : il capture aussi i, t, h... (Asterisk l'avertit au chargement)",
        "pattern {ext} is discouraged: it also catches i, t, h... (Asterisk warns at load)",
        "utiliser _X. à la place", "use _X. instead"),
    Rule("extension-whitespace",
        "warning", "l'extension « {ext} » contient des espaces (Asterisk les garde)",
        "extension '{ext}' contains spaces (Asterisk keeps them)", "les enlever",
        "remove them"),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULE_LIST}

_TERMINAL_APPS = {"goto", "gotoif", "hangup", "dial", "queue", "confbridge", "meetme",
                  "voicemail", "voicemailmain", "waitexten", "return", "busy", "congestion",
                  "gosub", "read", "agi", "transfer", "stasis", "directory", "followme",
                  "gotoiftime", "park", "parkedcall", "pickup", "disa", "vmauthenticate",
                  "execif", "macro", "exec", "tryexec", "echo", "readexten",
                  "playtones", "background", "morsecode", "milliwatt", "chanspy"}
_PROMPT_APPS = {"playback", "saynumber", "saydigits", "sayalpha", "sayphonetic", "noop",
                "set", "wait", "answer", "verbose", "log"}
_SAY_APPS = {"saynumber", "saydigits", "sayalpha", "sayphonetic", "saymoney", "sayordinal"}

_BUILTIN_VARS = {
    "EXTEN", "CONTEXT", "PRIORITY", "CHANNEL", "UNIQUEID", "DIALSTATUS", "INVALID_EXTEN",
    "GOSUB_RETVAL", "HANGUPCAUSE", "DATETIME", "EPOCH", "TIMESTAMP", "SYSTEMNAME", "LANGUAGE",
    "DIALEDPEERNUMBER", "DIALEDPEERNAME", "ANSWEREDTIME", "DIALEDTIME", "BACKGROUNDSTATUS",
    "PLAYBACKSTATUS", "READSTATUS", "VMSTATUS", "QUEUESTATUS", "SIPDOMAIN", "CALLERID",
    "CALLERIDNUM", "CALLERIDNAME", "RDNIS", "DNID", "ENV", "BLINDTRANSFER", "ATTENDEDTRANSFER",
    "TRANSFER_CONTEXT", "MEETME_RECORDINGFILE", "AGISTATUS", "SYSTEMSTATUS", "SPEECH",
    "CDR", "ARG1", "ARG2", "ARG3", "ARG4", "ARG5", "ARG6", "ARG7", "ARG8", "ARG9", "ARGC",
    "ASTETCDIR", "ASTDATADIR", "ASTAGIDIR", "ASTVARLIBDIR", "ASTSPOOLDIR", "ASTLOGDIR",
    "ASTRUNDIR", "ASTMODDIR", "ASTCACHEDIR", "INCOMINGEXTEN", "EXCEPTION", "AMDSTATUS",
    "CONFBRIDGE_RESULT", "MIXMONITOR_FILENAME", "QUEUEPOSITION", "TRANSFERSTATUS", "MACRO_EXTEN",
}

# Applications whose first argument names a variable they set.
_VAR_ARG_APPS = frozenset({"read", "readexten", "receivemf", "receivesf", "waitdigit",
                           "agi_var", "sayalphacase", "getcpeid", "dbget"})
# Applications after which any variable may be set (a script runs): "unknown", not "unset".
_SCRIPT_APPS = frozenset({"agi", "eagi", "deadagi", "system", "trysystem", "exec", "tryexec"})
_INLINE_SET = re.compile(r"(?:\$\{SET\(|\b[Ss][Ee][Tt]\()([^=()]*(?:\([^()]*\))?)=")


def _assigned_names(target: str) -> list[str]:
    """Variable names a ``Set()`` target assigns: ``x``, ``_x``, ``LOCAL(x)``, ``GLOBAL(x)``,
    ``ARRAY(a,b)``, ``PUSH(x)``, ``UNSHIFT(x)``; other functions (``CDR(x)``, ``HASH(h,k)``)
    set no plain variable."""
    t = target.strip().lstrip("_")
    up = t.upper()
    if "(" not in t:
        return [t]
    if not t.endswith(")"):
        return []
    inner = t[t.index("(") + 1:-1]
    if up.startswith(("LOCAL(", "GLOBAL(", "SHARED(")):
        return [inner.partition(",")[0].strip()]
    if up.startswith("ARRAY("):
        return [x.strip().lstrip("_") for x in inner.split(",")]
    if up.startswith(("PUSH(", "UNSHIFT(")):  # func_strings.c: append/prepend to a variable
        return [inner.partition(",")[0].strip().lstrip("_")]
    return []


_COMPARISON = re.compile(r"[=<>]|!=")
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?=[}:])")


def _vkey(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def _close_app(name: str) -> str | None:
    """The Asterisk application ``name`` is probably a typo of, if any."""
    import difflib

    close = difflib.get_close_matches(name, CATALOG_APPS.keys(), n=1, cutoff=0.8)
    return CATALOG_APPS[close[0]][0] if close else None


def _msg(lang: str, rule: str, **kw) -> tuple[str, str, str]:
    r = RULES[rule]
    if lang == "fr" and "why" in kw and rule in ("removed-app", "deprecated-app"):
        kw["why"] = why_fr(kw["why"])
    return (r.severity, *r.texts(lang, **kw))


class _Linter:
    def __init__(self, dp: Dialplan, lang: str, directory, entry_contexts, asterisk=None,
                 apps=None):
        self.dp = dp
        self.lang = lang if lang in ("fr", "en") else "en"
        pragma_versions = dp.pragmas.get("asterisk")
        self.versions = parse_versions(asterisk if asterisk is not None else pragma_versions)
        declared = list(apps or []) + dp.pragmas.get("apps", "").split(",")
        self.extra_apps = {a.strip().lower() for a in declared if a.strip()}
        self._app_verdicts: dict[tuple[str, bool], tuple[str, list, Any]] = {}
        self.runtime_contexts = {c.strip() for c in dp.pragmas.get("contexts", "").split(",")
                                 if c.strip()}
        self.directory = {str(k) for k in (directory or {})}
        self.out = Findings()
        self.entries = list(entry_contexts) if entry_contexts else ["default"]
        self._cache: dict = {}
        self._good_dests: set[str] = set()

    def find(self, ctx, exten, prio=1, label=None):
        key = (ctx, exten, prio, label)
        r = self._cache.get(key, self)
        if r is self:
            r = self._cache[key] = find_priority(self.dp, ctx, exten, prio, label=label)
        return r

    def add(self, rule, file, line, column, context=None, exten=None, severity=None,
            versions: tuple[str, ...] = (), **kw):
        sev, msg, hint = _msg(self.lang, rule, **kw)
        tag = ""
        if versions:
            # True for some of the versions linted for only: say which, and do not call it an
            # error of the dialplan as such.
            tag = ", ".join(versions)
            msg += (f" — vrai pour Asterisk {tag} seulement" if self.lang == "fr"
                    else f" — true for Asterisk {tag} only")
            if (severity or sev) == "error":
                severity = "warning"
        self.out.append(Finding(rule, severity or sev, file, line, column, msg, hint, context,
                                exten, tag))

    def at(self, rule, p: Priority, column=None, **kw):
        self.add(rule, p.file, p.line, column or p.column, p.context, p.exten, **kw)

    # ------------------------------------------------------------------------------------
    def run(self) -> Findings:
        dp = self.dp
        for err in dp.errors:
            self.add("syntax", err.file or "<string>", err.line or 0, err.column or 1,
                     msg=err.message, hint=err.hint or "")
        for iss in dp.issues:
            self._issue(iss)
        # One walk over every priority: the per-line checks, and what the rules that need the
        # whole dialplan collect (variables set, AGI contexts, jumps between contexts, Gotos).
        self.set_vars: set[str] = set(dp.globals)
        self.setglobalvar_vars: set[str] = set()
        self.language_set = False
        self.agi_contexts: set[str] = set()
        self.file_order = {f: i for i, f in enumerate(dp.files)}
        self.edges: dict[str, set[str]] = {c: set() for c in dp.contexts}
        self.goto_extensions: set[int] = set()  # id() of extensions with a plain Goto
        self.uses_vars: list[Priority] = []
        self._known_vars: dict[str, bool] = {}  # once set_vars is complete
        self.says: list[Priority] = []
        for ctx in dp.contexts.values():
            self._context(ctx)
        if not self.language_set:
            for p in self.says:
                self.at("say-language", p, column=p.app_column, app=p.app)
        for p in self.uses_vars:
            self._variables(p)
        self._goto_loops()
        self._orphans()
        self.out.sort(key=lambda f: (f.file, f.line, f.column, _SEV_ORDER.get(f.severity, 3),
                                     f.rule))
        return self.out

    def _issue(self, iss):
        code = iss.code
        kw = iss.params
        if code == "duplicate-priority":
            self.add(code, iss.file, iss.line, iss.column, iss.context, prio=kw.get("prio", "?"),
                     other=kw.get("other", "?"), ext=kw.get("ext", "?"))
        elif code == "duplicate-label":
            self.add(code, iss.file, iss.line, iss.column, iss.context,
                     label=kw.get("label", "?"), ext=kw.get("ext", "?"))
        elif code == "duplicate-hint":
            self.add(code, iss.file, iss.line, iss.column, iss.context, ext=kw.get("ext", "?"))
        elif code == "no-closing-paren":
            self.add(code, iss.file, iss.line, iss.column, iss.context, app="")
        elif code in RULES:
            self.add(code, iss.file, iss.line, iss.column, iss.context, msg=iss.message)
        else:
            self.add("directive", iss.file, iss.line, iss.column, iss.context, msg=iss.message)

    def _sets_variables(self, p: Priority, la: str) -> None:
        """The variable names ``p`` sets: Set/MSet (with ``LOCAL()``, ``GLOBAL()``, ``ARRAY()``,
        ``_``/``__`` inheritance), ``${SET(x=...)}``, Set inside ExecIf, the variable argument of
        Read, ReadExten, ReceiveMF/SF... An AGI or System call makes the context's variables
        unknown (a script may set any): ``self.agi_contexts``."""
        names = self.set_vars
        data = p.data
        if la == "set" or la == "mset":
            for part in ([data] if la == "set" else split_args(data)):
                target, eq, _ = part.partition("=")
                if "(" in target:
                    names.update(_assigned_names(target))
                    if (la == "set" and eq
                            and target.replace(" ", "").upper() == "CHANNEL(LANGUAGE)"):
                        self.language_set = True
                else:  # the common case, inline
                    names.add(target.strip().lstrip("_"))
        elif la in _VAR_ARG_APPS:
            names.add(split_args(data)[0].strip())
        elif la in _SCRIPT_APPS:
            self.agi_contexts.add(p.context)
        elif la == "setglobalvar":
            self.setglobalvar_vars.add(data.partition("=")[0].strip())

    def _variables(self, p: Priority):
        known = self._known_vars
        for var in _VAR_RE.findall(p.data):
            ok = known.get(var)
            if ok is None:
                up = var.upper()
                ok = known[var] = (up in _BUILTIN_VARS or var in self.set_vars
                                   or var in CATALOG_VARIABLES
                                   or up.startswith(("XIVO_", "WAZO_", "ARG")))
            if ok:
                continue
            if p.context in self.agi_contexts:
                continue  # unknown, not unset: an AGI script or System() may have set it
            why = ""
            if var in self.setglobalvar_vars:
                why = (" (seulement par SetGlobalVar, qui n'existe plus)" if self.lang == "fr"
                       else " (only by SetGlobalVar, which no longer exists)")
            self.at("variable-unset", p, column=p.app_column, var=var, why=why)

    # ------------------------------------------------------------------------------------
    def _context(self, ctx: Context):
        # Set by the checks of WaitExten, Read, Background and AGI with keys.
        self.has_wait = self.has_menu = False
        self.first_tts: tuple[tuple[int, int, int], Priority, str] | None = None
        for ex in ctx.extensions.values():  # no rule here depends on the lookup order
            self._extension(ctx, ex)
        if self.first_tts is not None:
            _, p, script = self.first_tts
            self.at("external-dependency", p, column=p.app_column, script=script)
        edges = self.edges[ctx.name]
        for inc in ctx.includes:
            edges.add(inc.name)
            if inc.name not in self.dp.contexts and not self._runtime_context(inc.name):
                self.add("include-context", inc.file, inc.line, inc.column, ctx.name, ctx=inc.name)
        if self.has_menu:
            self._menu(ctx, self.has_wait)

    def _menu(self, ctx: Context, has_wait: bool):
        keys = "0123456789*#"
        has_i = self.find(ctx.name, "i", 1) is not None
        has_e = self.find(ctx.name, "e", 1) is not None
        has_t = self.find(ctx.name, "t", 1) is not None
        if not has_i and not has_e:
            missing = [k for k in keys if self.find(ctx.name, k, 1) is None and
                       not _could_grow(ctx, k)]
            if missing:
                self.add("ivr-no-i", ctx.file, ctx.line, ctx.column, ctx.name,
                         ctx=ctx.name, keys=", ".join(missing))
        if not has_t and not has_e:
            sev = "warning" if (has_wait or not self.dp.autofallthrough) else "info"
            self.add("ivr-no-t", ctx.file, ctx.line, ctx.column, ctx.name, severity=sev,
                     ctx=ctx.name)
        if has_t and not has_wait and self.dp.autofallthrough:
            t = ctx.extension("t")
            if t is not None:
                self.add("t-unreachable", t.file, t.line, t.column, ctx.name, "t", ctx=ctx.name)

    def _extension(self, ctx: Context, ex: Extension):
        name = ex.name
        if name[:1] == "_":
            why = pattern_error(name)
            if why:
                self.add("pattern-invalid", ex.file, ex.line, ex.column, ctx.name, name,
                         ext=name, why=why)
            if name in ("_.", "_!"):
                self.add("pattern-catchall", ex.file, ex.line, ex.column, ctx.name, name,
                         ext=name)
        if name != name.strip() or " " in name:
            self.add("extension-whitespace", ex.file, ex.line, ex.column, ctx.name, name,
                     ext=name)
        prios = ex.priorities
        if not prios:
            return
        nums = sorted(prios)
        if nums[0] != 1 and not self._entered_otherwise(ctx, ex, nums[0]):
            p = prios[nums[0]]
            self.at("missing-priority-1", p, ext=ex.display_name)
        if nums[-1] - nums[0] != len(nums) - 1:
            for a, b in zip(nums, nums[1:]):
                if b != a + 1:
                    p = prios[b]
                    self.at("priority-gap", p, ext=ex.display_name, prev=a, next=b)
        numbered = 0
        verdicts = self._app_verdicts
        for p in prios.values():
            if p.priority_text.isdigit():
                numbered += 1
            app = p.app
            if not app:
                continue
            verdict = verdicts.get((app, p.has_parens))
            if verdict is None:
                verdict = verdicts[(app, p.has_parens)] = self._app_verdict(app, p.has_parens)
            la, found, check = verdict
            for rule, kw in found:
                self.at(rule, p, column=p.app_column, **kw)
            if check is not None:
                check(self, ctx, p, la)
            data = p.data
            if "(" in data and "et(" in data.lower():  # ${SET(x=...)}, ExecIf(...?Set(x=...))
                for m in _INLINE_SET.finditer(data):
                    self.set_vars.update(_assigned_names(m.group(1)))
            if "${" in data:
                self.uses_vars.append(p)
        if numbered >= 4:
            self.at("explicit-numbering", prios[nums[0]], ext=ex.display_name)
        last = ex.priorities[nums[-1]]
        la = last.app.lower()
        if la == "background" and self.dp.autofallthrough:
            self.at("background-no-wait", last, column=last.app_column, app=last.app,
                    ext=ex.display_name)
        elif name in ("i", "t") and la in _PROMPT_APPS:
            back = "s,1"
            self.at("dead-end", last, column=last.app_column, app=last.app, ext=name, back=back)
        if name == "t":
            self._loop_check(ctx, ex)

    def _entered_otherwise(self, ctx: Context, ex: Extension, first: int) -> bool:
        """An extension without priority 1 that still runs: entered by a label
        (``_X.,50000(stdexten)`` called with ``Gosub(stdexten)``), or whose priorities continue
        a more specific extension that has priority 1 (the old matcher goes on to the next
        matching extension that has the wanted priority), or one res_parking fills in."""
        if ex.priorities[first].label is not None or self._runtime_context(ctx.name):
            return True
        for other in ctx.sorted_extensions():
            if other is ex:
                break
            if 1 in other.priorities and (match(ex.name, other.name) if not other.is_pattern
                                          else _overlap(ex.name, other.name)):
                return True
        return False

    def _loop_check(self, ctx: Context, ex: Extension):
        apps = [p.app.lower() for p in ex.steps()]
        if any(a in ("gotoif", "hangup", "execif", "gosubif", "dial", "queue", "voicemail")
               for a in apps):
            return
        for p in ex.steps():
            if p.app.lower() != "goto" or "$" in p.data:
                continue
            dest = self._resolve(p, p.data)
            if dest is None:
                continue
            dctx, dext, _ = dest
            if dctx == ctx.name and dext not in ("i", "t"):
                # Does the target extension give the caller a chance to time out again?
                if self._can_time_out(ctx, dext):
                    self.at("endless-loop", p, column=p.app_column, ext=ex.name,
                            dest=f"{dctx},{dext}")

    def _can_time_out(self, ctx: Context, exten: str) -> bool:
        target = ctx.extension(exten)
        if target is None:
            return False
        apps = [q.app.lower() for q in target.steps()]
        if "hangup" in apps or "gotoif" in apps:
            return False
        return "waitexten" in apps or "background" in apps or not self.dp.autofallthrough

    # ------------------------------------------------------------------------------------
    def _app_verdict(self, app: str, has_parens: bool) -> tuple[str, list, Any]:
        """What to say about an application name (the same for every line that calls it)."""
        la = app.lower()
        out: list[tuple[str, dict]] = []
        present = app_versions(la) if la not in self.extra_apps else None
        if present is None:
            pass  # declared third-party application
        elif present:
            missing = tuple(v for v in self.versions if v not in present)
            partial = missing if len(missing) < len(self.versions) else ()
            if not missing:
                if la in DEPRECATED_APPS:
                    why, repl = DEPRECATED_APPS[la]
                    out.append(("deprecated-app", dict(app=app, why=why, repl=repl)))
            elif max(present, key=_vkey) < min(missing, key=_vkey):
                # Removed before (some of) the versions linted for.
                last = max(present, key=_vkey)
                why, repl = REMOVED_APPS.get(la, (f"last in Asterisk {last}",
                                                  f"what UPGRADE.txt of Asterisk {last} says"))
                out.append(("removed-app", dict(versions=partial, app=app, why=why, repl=repl)))
            else:
                out.append(("app-version", dict(versions=partial, app=app,
                                                missing=", ".join(missing),
                                                present=version_label(present))))
        elif la in REMOVED_APPS:
            why, repl = REMOVED_APPS[la]
            out.append(("removed-app", dict(app=app, why=why, repl=repl)))
        elif "," in app and not has_parens:
            name, _, rest = app.partition(",")
            out.append(("old-syntax", dict(text=app, app=app,
                                           fixed=f"{name.strip()}({rest.strip()})")))
        elif app != app.rstrip() and app.rstrip().lower() in CATALOG_APPS:
            out.append(("app-space", dict(app=app, fixed=app.rstrip())))
        elif "$" not in app:
            close = _close_app(la)
            if close is not None:
                out.append(("unknown-app", dict(
                    app=app, suggest=(f" : {close} ?" if self.lang == "fr" else f": {close}?"))))
            else:
                out.append(("third-party-app", dict(app=app,
                                                    span=f"{VERSIONS[0]}–{VERSIONS[-1]}")))
        return la, out, _APP_CHECKS.get(la)

    def _chk_jump(self, ctx, p, la):
        data = p.data
        if la == "gosub":  # the common case, inline
            dests = [gosub_label(data)[0]] if data.strip() else []
        else:
            dests = static_destinations(p.app, data)
        for dest in dests:
            self._check_dest(p, dest, p.app)
            # Only a destination with a context (two commas) adds an edge between contexts.
            if dest.count(",") >= 2:
                target = dest.partition(",")[0]
                if "$" not in target:
                    self.edges[ctx.name].add(target.strip())
        if la == "goto" and "$" not in data:
            self.goto_extensions.add(id(ctx.extensions.get((p.exten, p.cid))))
        if la in ("gotoif", "gosubif", "execif"):
            cond = static_branches(p.data)[0]
            if "$[" not in cond and _COMPARISON.search(cond):
                self.at("condition-not-expression", p, column=p.app_column, app=p.app,
                        cond=cond.strip(), fix=f"$[{cond.strip()}]")

    def _chk_sounds(self, ctx, p, la):
        self._sounds(p)
        if la == "background":
            self.has_menu = True
            # Background(files,options,langoverride,context): keys pressed go to `context`
            # (pbx_builtin_background, main/pbx_builtins.c).
            args = split_args(p.data)
            target = args[3].strip() if len(args) > 3 else ""
            if (target and "$" not in target and target not in self.dp.contexts
                    and not self._runtime_context(target)):
                self.at("goto-context", p, column=p.app_column, app=p.app, ctx=target)

    def _chk_say(self, ctx, p, la):
        self.says.append(p)  # reported once the whole dialplan is read: is the language set?

    def _chk_wait(self, ctx, p, la):
        self.has_wait = True
        if la == "waitexten":
            self.has_menu = True
        else:  # Read(var,...)
            self._sets_variables(p, la)

    def _chk_dial(self, ctx, p, la):
        for d in split_args(p.data)[0].split("&"):
            if d.upper().startswith("LOCAL/") and "@" in d:
                target = d.split("@", 1)[1].split("/")[0]
                if "$" not in target:
                    self.edges[ctx.name].add(target.strip())

    def _chk_vars(self, ctx, p, la):
        self._sets_variables(p, la)

    def _chk_agi(self, ctx, p, la):
        self.agi_contexts.add(p.context)
        if _agi_intkey(p):
            self.has_menu = True
        script = split_args(p.data)[0].strip()
        if "googletts" in script.lower():
            # Reported once per context, at its first such call in the file.
            where = (self.file_order.get(p.file, len(self.file_order)), p.line, p.column)
            if self.first_tts is None or where < self.first_tts[0]:
                self.first_tts = (where, p, script)

    def _chk_set(self, ctx, p, la):
        if la == "set":  # the common case, inline
            target, eq, value = p.data.partition("=")
            if "(" in target or not eq:
                self._sets_variables(p, la)
            else:
                self.set_vars.add(target.strip().lstrip("_"))
        else:
            self._sets_variables(p, la)
            if la == "mset":
                return
            value = p.data.partition("=")[2]
        if "/" in value:
            self._path_value(p, value)

    def _path_value(self, p: Priority, value: str):
        v = value.strip()
        if v.startswith("/") and "sound" in v.lower() and not v.startswith(SOUND_DIRS):
            self.at("sounds-path", p, column=p.app_column, path=v)

    def _sounds(self, p: Priority):
        files = split_args(p.data)[0]
        for f in files.split("&"):
            f = f.strip()
            if not f or "${" in f:
                continue
            if f.startswith("/") and not f.startswith(SOUND_DIRS):
                self.at("sounds-path", p, column=p.app_column, path=f)
            m = re.search(r"\.(wav|gsm|ulaw|alaw|sln|sln16|g722|mp3|ogg|wav16)$", f, re.I)
            if m:
                self.at("sound-extension", p, column=p.app_column, name=f, fixed=f[:m.start()])

    # -- destinations ----------------------------------------------------------------------
    def _resolve(self, p: Priority, dest: str):
        loc = parse_location(dest, p.context, p.exten)
        return None if loc is None else (loc.context, loc.exten, loc.priority)

    def _runtime_context(self, name: str) -> bool:
        """Contexts other modules create at run time: res_parking's parking lots
        (``parkedcalls``, and ``park-dial`` for comebacktoorigin), or declared ones."""
        return (name in self.runtime_contexts or name.startswith("parkedcalls")
                or name == "park-dial")

    def _check_dest(self, p: Priority, dest: str, app: str):
        if dest in self._good_dests or "$" in dest or dest.strip() == "":
            return
        before = len(self.out)
        self._check_dest_uncached(p, dest, app)
        if len(self.out) == before and dest.count(",") == 2:
            self._good_dests.add(dest)  # context,exten,priority: same verdict everywhere

    def _check_dest_uncached(self, p: Priority, dest: str, app: str):
        parts = dest.split(",", 3)[:3]
        if any(x != x.strip() for x in parts):
            raw = parse_location(dest, p.context, p.exten)
            if raw is None:
                return  # an empty destination: nothing to check
            # sscanf skips the blanks around a number; a context, extension or label keeps them
            # (pbx_parse_location), so that jump goes nowhere.
            if (raw.context != raw.context.strip() or raw.exten != raw.exten.strip()
                    or raw.number is None):
                self.at("goto-whitespace", p, column=p.app_column, dest=dest,
                        fix=",".join(x.strip() for x in parts))
                return
            parts = [x.strip() for x in parts]
        n = len(parts)
        loc = parse_location(",".join(parts), p.context, p.exten)
        if loc is None:
            return  # an empty destination: nothing to check
        ctx, exten, prio = loc.context, loc.exten, loc.priority
        is_num = loc.number is not None
        dp = self.dp
        if ctx not in dp.contexts:
            if exten in self.directory or f"{exten}@{ctx}" in self.directory:
                return
            if self._runtime_context(ctx):
                return
            self.at("goto-context", p, column=p.app_column, app=app, ctx=ctx)
            return
        if n == 1:
            if is_num:
                return
            # A label of the current extension (any extension entry matching what was dialed).
            if self._label_exists(p, ctx, p.exten, prio):
                return
            c = dp.contexts[ctx]
            if any(e.name == prio for e in c.extensions.values()):
                self.at("goto-label-is-extension", p, column=p.app_column, app=app, dest=dest,
                        prio=prio, fix=f"{prio},1")
            else:
                self.at("goto-label", p, column=p.app_column, app=app, prio=prio,
                        ext=p.exten, ctx=ctx, fix=self._label_fix(ctx, prio))
            return
        if "$" in exten:
            return
        if self.find(ctx, exten, 1) is None:
            if exten in self.directory or f"{exten}@{ctx}" in self.directory:
                return
            if n == 2 and exten in dp.contexts:
                fix = (f"Goto({exten},{prio},1)" if not is_num else f"Goto({exten},s,{prio})")
                self.at("goto-arguments", p, column=p.app_column, app=app, dest=dest,
                        ext=exten, prio=prio, ctx=ctx, fix=fix)
            else:
                self.at("goto-extension", p, column=p.app_column, app=app, ext=exten, ctx=ctx)
            return
        if is_num:
            if loc.mode:
                return
            if self.find(ctx, exten, loc.number) is None:
                self.at("goto-priority", p, column=p.app_column, app=app, ctx=ctx, ext=exten,
                        prio=prio)
        else:
            if self.find(ctx, exten, 0, label=prio) is None:
                self.at("goto-label", p, column=p.app_column, app=app, prio=prio, ext=exten,
                        ctx=ctx, fix=self._label_fix(ctx, prio))

    def _label_exists(self, p, ctx, exten_pattern, label) -> bool:
        c = self.dp.contexts.get(ctx)
        if c is None:
            return False
        ex = c.extensions.get((p.exten, p.cid))
        if ex is not None and label in ex.labels:
            return True
        # A literal extension: full lookup also finds labels in less specific patterns.
        if not exten_pattern.startswith("_"):
            return self.find(ctx, exten_pattern, 0, label=label) is not None
        return False

    def _label_fix(self, ctx: str, prio: str) -> str:
        c = self.dp.contexts.get(ctx)
        if c is not None and any(e.name == prio for e in c.extensions.values()):
            return (f"{prio},1" if self.lang == "en" else f"{prio},1 (extension {prio}, "
                    "priorité 1)")
        return ("define the label with n(" + prio + ") or jump to a number" if self.lang == "en"
                else "définir le label avec n(" + prio + ") ou sauter vers un numéro")

    # -- immediate loops -----------------------------------------------------------------
    _STOPS = frozenset({"gotoif", "gosubif", "gotoiftime", "execif", "hangup", "dial", "queue",
                        "waitexten", "background", "read", "voicemail", "voicemailmain",
                        "confbridge", "meetme", "busy", "congestion", "agi", "return",
                        "gosub", "wait", "playback", "saynumber", "saydigits", "sayalpha",
                        "readexten", "echo", "record", "if", "elseif", "else", "endif",
                        "exitif", "while", "endwhile", "exitwhile", "continuewhile"})

    def _goto_loops(self):
        """Unconditional Goto chains that come back to where they started, with nothing between
        that waits, tests or ends the call."""
        reported: set[tuple[str, int]] = set()
        done: set[tuple] = set()
        with_goto = self.goto_extensions
        starts = (p for c in self.dp.contexts.values() for e in c.extensions.values()
                  if id(e) in with_goto for p in e.priorities.values())
        for p0 in starts:
            if p0.app.lower() != "goto" or "$" in p0.data or (p0.file, p0.line) in reported:
                continue
            # Each priority is walked once over all the starts: a walk ends on a priority
            # already judged (`done`), on a stop, or on a loop; then all it saw is judged.
            seen: dict[tuple, None] = {}
            path: list[Priority] = []
            p = p0
            ctx, exten, prio = p.context, p.exten, p.number
            while True:
                la = p.app.lower()
                key = (ctx, exten, prio)
                if key in done:
                    break
                if key in seen:
                    if (p.file, p.line) not in reported:
                        self.at("goto-loop", p, column=p.app_column, app=p.app,
                                dest=f"{ctx},{exten},{prio}")
                    # one finding per cycle
                    reported.update((q.file, q.line) for q in path if q.app.lower() == "goto")
                    break
                seen[key] = None
                path.append(p)
                if la in self._STOPS or la in REMOVED_APPS or "$" in p.data:
                    break
                if la == "goto":
                    loc = parse_location(",".join(x.strip() for x in p.data.split(",")), ctx,
                                         exten)
                    if loc is None or loc.mode:
                        break
                    nctx, nexten = loc.context, loc.exten
                    if loc.number is not None:
                        nnum = loc.number
                        q = self.find(nctx, nexten, nnum)
                    else:
                        q = self.find(nctx, nexten, 0, label=loc.priority)
                        nnum = q.number if q is not None else 0
                    if q is None:
                        break
                    ctx, exten, prio, p = nctx, nexten, nnum, q
                    continue
                q = self.find(ctx, exten, prio + 1)
                if q is None:
                    break
                prio, p = prio + 1, q
            done.update(seen)

    # -- reachability ---------------------------------------------------------------------
    def _orphans(self):
        dp = self.dp
        edges = self.edges  # filled by the walk: includes, jumps, Dial(Local/x@ctx)
        users = dp.general.get("userscontext")
        if users is not None and users.value not in self.entries:
            self.entries.append(users.value)
        entries = [e for e in self.entries if e in dp.contexts]
        if not entries:
            return
        seen = set()
        todo = list(entries)
        while todo:
            c = todo.pop()
            if c in seen:
                continue
            seen.add(c)
            todo.extend(x for x in edges.get(c, ()) if x in dp.contexts)
        for c in dp.contexts.values():
            if c.name not in seen:
                self.add("orphan-context", c.file, c.line, c.column, c.name, ctx=c.name,
                         entries=", ".join(f"[{e}]" for e in entries))


# Per-application checks (called for every priority running that application); they also
# collect what the whole-dialplan rules need.
_APP_CHECKS: dict[str, Any] = {
    **{a: _Linter._chk_vars for a in _VAR_ARG_APPS | _SCRIPT_APPS},
    **{a: _Linter._chk_jump for a in JUMP_APPS},
    "playback": _Linter._chk_sounds, "background": _Linter._chk_sounds,
    "controlplayback": _Linter._chk_sounds, "agi": _Linter._chk_agi, "set": _Linter._chk_set,
    "mset": _Linter._chk_set, "setglobalvar": _Linter._chk_set, "waitexten": _Linter._chk_wait,
    "read": _Linter._chk_wait, "dial": _Linter._chk_dial,
    **{a: _Linter._chk_say for a in _SAY_APPS},
}


def _overlap(pattern: str, other: str) -> bool:
    """Can some string match both patterns? (Checked on a sample: each pattern's own smallest
    matching strings.)"""
    for sample in _samples(other):
        if match(pattern, sample):
            return True
    return False


def _samples(pattern: str) -> list[str]:
    out = ""
    i = 1
    while i < len(pattern):
        c = pattern[i]
        if c in "Xx":
            out += "0"
        elif c in "Nn":
            out += "2"
        elif c in "Zz":
            out += "1"
        elif c == "[":
            end = pattern.find("]", i)
            if end < 0:
                return []
            out += pattern[i + 1:i + 2] if end > i + 1 else ""
            i = end
        elif c in ".!":
            return [out + "0", out + "00", out + "0000"] + ([out] if c == "!" else [])
        elif c != "-":
            out += c
        i += 1
    return [out]


def _could_grow(ctx: Context, key: str) -> bool:
    """Is ``key`` the start of a longer extension (so Asterisk waits for more digits)?"""
    return any(match_more(e.name, key) for e in ctx.extensions.values())


def _agi_intkey(p: Priority) -> bool:
    a = split_args(p.data)
    return len(a) > 3 and a[3].strip() != ""


def lint(dialplan: Dialplan, lang: str = "fr", directory: Mapping[str, Any] | None = None,
         entry_contexts: Iterable[str] | None = None, asterisk=None,
         apps: Iterable[str] | None = None) -> Findings:
    """Check a dialplan the way an Asterisk expert would.

    ``lang``: ``"fr"`` or ``"en"`` messages. ``directory``: numbers the PBX knows outside this
    dialplan (same shape as :func:`simulate`'s), so ``Goto(default,201,1)`` is not reported when
    201 is a XiVO group. ``entry_contexts``: where calls enter (default ``["default"]``), for the
    unreachable-context rule.

    ``asterisk``: version(s) to check against (``13``, ``"13,22"``, ``("16", "20")``); default
    the ``; toipkit: asterisk=…`` comment of the dialplan, else ``13,22`` (the course's XiVO
    and the current LTS). A finding true for only some of them (``Macro`` is gone in 21) is a
    warning whose ``versions`` says where it holds. ``apps``: applications of third-party
    modules (also ``; toipkit: apps=A,B`` in the dialplan); other names Asterisk never had are
    ``unknown-app`` errors when close to a real application (a typo), else ``third-party-app``
    warnings. Contexts created at run time by other modules (res_parking's ``parkedcalls``)
    count as existing; declare others with ``; toipkit: contexts=a,b``.
    """
    if not isinstance(dialplan, Dialplan):
        raise TypeError("lint() needs a Dialplan (use parse() or parse_file() first)")
    gc_was_enabled = gc.isenabled()
    gc.disable()  # many short-lived objects, no cycles: don't let the GC rescan the dialplan
    try:
        return _Linter(dialplan, lang, directory, entry_contexts, asterisk, apps).run()
    finally:
        if gc_was_enabled:
            gc.enable()
