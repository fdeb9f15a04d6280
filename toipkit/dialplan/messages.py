"""Texts of the simulator's trace (Asterisk's own words where it has some).

The French texts are the source of the message catalogue (:mod:`toipkit.i18n`); ``_M["en"]`` is
their English translation from the catalogue. :data:`OUTCOMES` names a trace's outcome code
(``dial``, ``hangup``...) for students: :func:`outcome_label`.
"""

from __future__ import annotations

from toipkit.i18n import N_, translations

_FR = {
    "hangup_app": N_("Hangup : l'appel est raccroché"),
    "removed": N_("application « {app} » inexistante ({why}) : Asterisk écrit « No application "
                  "'{app}' for extension ({ctx}, {ext}, {prio}) » et raccroche"),
    "unknown_app": N_("application « {app} » inconnue d'Asterisk : « No application » et l'appel "
                      "est raccroché"),
    "skipped": N_("non simulée, ignorée"),
    "fallthrough": N_("fin de l'extension {ext}@{ctx} sans priorité {prio} : autofallthrough, "
                      "l'appel est raccroché"),
    "invalid_i": N_("touche(s) « {digits} » sans extension dans [{ctx}] → i,1"),
    "invalid_e": N_("touche(s) « {digits} » sans extension dans [{ctx}] → e,1 (INVALID)"),
    "invalid_none": N_("« Invalid extension '{digits}', but no rule 'i' or 'e' in context '{ctx}'"
                       " » : l'appel est raccroché"),
    "timeout_t": N_("aucune touche : délai dépassé → t,1"),
    "timeout_e": N_("aucune touche : délai dépassé → e,1 (RESPONSETIMEOUT)"),
    "timeout_none": N_("« Timeout, but no rule 't' or 'e' in context '{ctx}' » : l'appel est "
                       "raccroché"),
    "sent_invalid_i": N_("extension {ext} introuvable dans [{ctx}] → i,1"),
    "sent_invalid_none": N_("« sent to invalid extension but no invalid handler » : {ext}@{ctx} "
                            "n'existe pas, l'appel est raccroché"),
    "no_context": N_(" (le contexte [{ctx}] n'existe pas)"),
    "goto_bad": N_("« Priority '{prio}' must be a number > 0, or valid label » : pas de label « "
                   "{prio} » dans l'extension {ext} de [{ctx}] ; {app} échoue et l'appel est "
                   "raccroché"),
    "goto_empty": N_("Goto sans argument : l'appel est raccroché"),
    "goto": N_("saut vers {ctx},{ext},{prio}"),
    "no_branch": N_("condition {cond} : pas de saut"),
    "branch": N_("condition {cond} : saut vers {dest}"),
    "plays": N_("joue « {name} »{text} ({dur})"),
    "missing_sound": N_("fichier « {name} » introuvable (BACKGROUNDSTATUS=FAILED), continue"),
    "missing_playback": N_("fichier « {name} » introuvable (PLAYBACKSTATUS=FAILED), continue"),
    "key_during": N_("touche {d} à {t}"),
    "bg_jump": N_("touche {d} pendant l'annonce → {d},1"),
    "agi_says": N_("dit « {text} » ({dur})"),
    "agi_key": N_("touche {d} pendant la synthèse → SET EXTENSION {d}, SET PRIORITY 1"),
    "agi_other": N_("script AGI « {script} » non simulé"),
    "wait": N_("attend {dur}"),
    "waitexten_key": N_("touche {d} après {dur}"),
    "waitexten_timeout_next": N_("aucune touche pendant {dur} : continue"),
    "waitexten_timeout_t": N_("aucune touche pendant {dur} → t,1"),
    "waitexten_timeout_e": N_("aucune touche pendant {dur} → e,1"),
    "waitexten_timeout_none": N_("aucune touche pendant {dur} : « Timeout but no rule 't' or 'e' "
                                 "in context '{ctx}' », l'appel est raccroché"),
    "set": N_("{var} = « {value} »"),
    "say": N_("prononce « {text} » en langue {lang}"),
    "dial": N_("fait sonner {what}"),
    "dial_unknown": N_("fait sonner {what} (numéro inconnu de l'annuaire)"),
    "reach": N_("atteint {what}"),
    "queue": N_("file d'attente {what}"),
    "conference": N_("entre en conférence {what}"),
    "voicemail": N_("messagerie vocale {what}"),
    "answer": N_("décroche"),
    "ringing": N_("fait entendre la sonnerie"),
    "busy": N_("tonalité occupé"),
    "congestion": N_("tonalité d'encombrement"),
    "noop": N_("rien"),
    "read": N_("lit « {value} » dans {var}"),
    "gosub": N_("sous-programme {dest}"),
    "return": N_("retour vers {dest}"),
    "return_empty": N_("Return sans Gosub : l'appel est raccroché"),
    "step_limit": N_("limite de {n} étapes atteinte : boucle sans fin probable"),
    "time_limit": N_("limite de {n} s atteinte : boucle sans fin probable"),
    "h": N_("fin d'appel → h,1"),
    "lost_keys": N_("touches perdues (personne n'écoutait) : {keys}"),
    "start": N_("appel entrant sur {ext}@{ctx}"),
    "collected": N_("numéro composé « {digits} » → {digits},1"),
    "bg_noarg": N_("Background sans nom de fichier : « Background requires an argument », l'appel"
                   " est raccroché"),
}

# Outcome code of a trace (Trace.outcome, what checks compare) -> its name for students.
OUTCOMES = {
    "hangup": N_("raccroché"),
    "dial": N_("fait sonner un poste"),
    "queue": N_("file d'attente"),
    "conference": N_("conférence"),
    "voicemail": N_("messagerie vocale"),
    "busy": N_("occupé"),
    "congestion": N_("encombrement"),
    "step-limit": N_("limite d'étapes atteinte"),
    "time-limit": N_("limite de temps atteinte"),
}


def _english(table: dict[str, str]) -> dict[str, str]:
    english = translations("en")
    return {key: english.gettext(text) for key, text in table.items()}


_M = {"fr": _FR, "en": _english(_FR)}


def outcome_label(outcome: str, lang: str = "fr") -> str:
    """A trace's outcome code as students read it (the code itself when it has no name)."""
    text = OUTCOMES.get(outcome)
    if text is None:
        return outcome
    return translations(lang).gettext(text) if lang in ("fr", "en") else text


_SEVERITY_ICONS = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}
_SEVERITY_NAMES = {"error": N_("erreur"), "warning": N_("avertissement"), "info": N_("info")}
# Columns of the lint table: (header, width). Fixed layout, the texts wrap: the correction stays
# readable on a 1280 px screen instead of overflowing to the right.
_LINT_COLUMNS = ((N_("ligne"), "4.5em"), ("", "2.2em"), (N_("règle"), "11em"),
                 (N_("message"), "auto"), (N_("correction"), "auto"))
_CELL = "text-align:left;vertical-align:top;white-space:normal;overflow-wrap:anywhere"


def findings_html(findings) -> str:
    """Lint findings as an escaped HTML table (no Markdown, so no LaTeX from ``$``)."""
    from html import escape

    from toipkit.i18n import _

    if not findings:
        return f"<p>✅ {escape(_('aucun problème'))}</p>"
    cols = "".join(f'<col style="width:{width}">' for _h, width in _LINT_COLUMNS)
    head = "".join(f'<th style="{_CELL}">{escape(_(h)) if h else ""}</th>'
                   for h, _w in _LINT_COLUMNS)
    rows = []
    for f in findings:
        icon = _SEVERITY_ICONS.get(f.severity, "")
        name = escape(_(_SEVERITY_NAMES[f.severity]) if f.severity in _SEVERITY_NAMES
                      else f.severity)
        cells = (str(f.line), f'<span title="{name}">{icon}</span>',
                 f"<code>{escape(f.rule)}</code>", escape(f.message), escape(f.hint))
        rows.append("<tr>" + "".join(f'<td style="{_CELL}">{c}</td>' for c in cells) + "</tr>")
    # JupyterLab typesets $...$ even in HTML outputs: MathJax skips elements of these classes
    # (mathjax_ignore: JupyterLab 4, MathJax 3; tex2jax_ignore: MathJax 2 front-ends).
    return ('<table class="toipkit-lint mathjax_ignore tex2jax_ignore" '
            'style="table-layout:fixed;width:100%">'
            f"<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _dur(x: float) -> str:
    return f"{x:.1f} s"
