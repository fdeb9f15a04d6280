"""Texts of the simulator's trace, in French and English (Asterisk's own words where it has
some)."""

from __future__ import annotations

_M = {
    "fr": {
        "hangup_app": "Hangup : l'appel est raccroché",
        "removed": "application « {app} » inexistante ({why}) : Asterisk écrit « No application "
                   "'{app}' for extension ({ctx}, {ext}, {prio}) » et raccroche",
        "unknown_app": "application « {app} » inconnue d'Asterisk : « No application » et "
                       "l'appel est raccroché",
        "skipped": "non simulée, ignorée",
        "fallthrough": "fin de l'extension {ext}@{ctx} sans priorité {prio} : autofallthrough, "
                       "l'appel est raccroché",
        "invalid_i": "touche(s) « {digits} » sans extension dans [{ctx}] → i,1",
        "invalid_e": "touche(s) « {digits} » sans extension dans [{ctx}] → e,1 (INVALID)",
        "invalid_none": "« Invalid extension '{digits}', but no rule 'i' or 'e' in context "
                        "'{ctx}' » : l'appel est raccroché",
        "timeout_t": "aucune touche : délai dépassé → t,1",
        "timeout_e": "aucune touche : délai dépassé → e,1 (RESPONSETIMEOUT)",
        "timeout_none": "« Timeout, but no rule 't' or 'e' in context '{ctx}' » : l'appel est "
                        "raccroché",
        "sent_invalid_i": "extension {ext} introuvable dans [{ctx}] → i,1",
        "sent_invalid_none": "« sent to invalid extension but no invalid handler » : "
                             "{ext}@{ctx} n'existe pas, l'appel est raccroché",
        "no_context": " (le contexte [{ctx}] n'existe pas)",
        "goto_bad": "« Priority '{prio}' must be a number > 0, or valid label » : pas de label "
                    "« {prio} » dans l'extension {ext} de [{ctx}] ; {app} échoue et l'appel est "
                    "raccroché",
        "goto_empty": "Goto sans argument : l'appel est raccroché",
        "goto": "saut vers {ctx},{ext},{prio}",
        "no_branch": "condition {cond} : pas de saut",
        "branch": "condition {cond} : saut vers {dest}",
        "plays": "joue « {name} »{text} ({dur})",
        "missing_sound": "fichier « {name} » introuvable (BACKGROUNDSTATUS=FAILED), continue",
        "missing_playback": "fichier « {name} » introuvable (PLAYBACKSTATUS=FAILED), continue",
        "key_during": "touche {d} à {t}",
        "bg_jump": "touche {d} pendant l'annonce → {d},1",
        "agi_says": "dit « {text} » ({dur})",
        "agi_key": "touche {d} pendant la synthèse → SET EXTENSION {d}, SET PRIORITY 1",
        "agi_other": "script AGI « {script} » non simulé",
        "wait": "attend {dur}",
        "waitexten_key": "touche {d} après {dur}",
        "waitexten_timeout_next": "aucune touche pendant {dur} : continue",
        "waitexten_timeout_t": "aucune touche pendant {dur} → t,1",
        "waitexten_timeout_e": "aucune touche pendant {dur} → e,1",
        "waitexten_timeout_none": "aucune touche pendant {dur} : « Timeout but no rule 't' or "
                                  "'e' in context '{ctx}' », l'appel est raccroché",
        "set": "{var} = « {value} »",
        "say": "prononce « {text} » en langue {lang}",
        "dial": "fait sonner {what}",
        "dial_unknown": "fait sonner {what} (numéro inconnu de l'annuaire)",
        "reach": "atteint {what}",
        "queue": "file d'attente {what}",
        "conference": "entre en conférence {what}",
        "voicemail": "messagerie vocale {what}",
        "answer": "décroche",
        "ringing": "fait entendre la sonnerie",
        "busy": "tonalité occupé",
        "congestion": "tonalité d'encombrement",
        "noop": "rien",
        "read": "lit « {value} » dans {var}",
        "gosub": "sous-programme {dest}",
        "return": "retour vers {dest}",
        "return_empty": "Return sans Gosub : l'appel est raccroché",
        "step_limit": "limite de {n} étapes atteinte : boucle sans fin probable",
        "time_limit": "limite de {n} s atteinte : boucle sans fin probable",
        "h": "fin d'appel → h,1",
        "lost_keys": "touches perdues (personne n'écoutait) : {keys}",
        "start": "appel entrant sur {ext}@{ctx}",
        "collected": "numéro composé « {digits} » → {digits},1",
        "bg_noarg": "Background sans nom de fichier : « Background requires an argument », "
                    "l'appel est raccroché",
    },
    "en": {
        "hangup_app": "Hangup: the call is hung up",
        "removed": "application '{app}' does not exist ({why}): Asterisk logs \"No application "
                   "'{app}' for extension ({ctx}, {ext}, {prio})\" and hangs up",
        "unknown_app": "application '{app}' unknown to Asterisk: \"No application\", the call "
                       "is hung up",
        "skipped": "not simulated, skipped",
        "fallthrough": "end of extension {ext}@{ctx}, no priority {prio}: autofallthrough, the "
                       "call is hung up",
        "invalid_i": "key(s) '{digits}' match no extension in [{ctx}] -> i,1",
        "invalid_e": "key(s) '{digits}' match no extension in [{ctx}] -> e,1 (INVALID)",
        "invalid_none": "\"Invalid extension '{digits}', but no rule 'i' or 'e' in context "
                        "'{ctx}'\": the call is hung up",
        "timeout_t": "no key: timeout -> t,1",
        "timeout_e": "no key: timeout -> e,1 (RESPONSETIMEOUT)",
        "timeout_none": "\"Timeout, but no rule 't' or 'e' in context '{ctx}'\": the call is "
                        "hung up",
        "sent_invalid_i": "extension {ext} not found in [{ctx}] -> i,1",
        "sent_invalid_none": "\"sent to invalid extension but no invalid handler\": {ext}@{ctx} "
                             "does not exist, the call is hung up",
        "no_context": " (context [{ctx}] does not exist)",
        "goto_bad": "\"Priority '{prio}' must be a number > 0, or valid label\": no label "
                    "'{prio}' in extension {ext} of [{ctx}]; {app} fails and the call is hung up",
        "goto_empty": "Goto without argument: the call is hung up",
        "goto": "jumps to {ctx},{ext},{prio}",
        "no_branch": "condition {cond}: no jump",
        "branch": "condition {cond}: jumps to {dest}",
        "plays": "plays '{name}'{text} ({dur})",
        "missing_sound": "file '{name}' not found (BACKGROUNDSTATUS=FAILED), continues",
        "missing_playback": "file '{name}' not found (PLAYBACKSTATUS=FAILED), continues",
        "key_during": "key {d} at {t}",
        "bg_jump": "key {d} during the prompt -> {d},1",
        "agi_says": "says '{text}' ({dur})",
        "agi_key": "key {d} during speech -> SET EXTENSION {d}, SET PRIORITY 1",
        "agi_other": "AGI script '{script}' not simulated",
        "wait": "waits {dur}",
        "waitexten_key": "key {d} after {dur}",
        "waitexten_timeout_next": "no key for {dur}: continues",
        "waitexten_timeout_t": "no key for {dur} -> t,1",
        "waitexten_timeout_e": "no key for {dur} -> e,1",
        "waitexten_timeout_none": "no key for {dur}: \"Timeout but no rule 't' or 'e' in "
                                  "context '{ctx}'\", the call is hung up",
        "set": "{var} = '{value}'",
        "say": "says '{text}' in language {lang}",
        "dial": "rings {what}",
        "dial_unknown": "rings {what} (number not in the directory)",
        "reach": "reaches {what}",
        "queue": "queue {what}",
        "conference": "joins conference {what}",
        "voicemail": "voicemail {what}",
        "answer": "answers",
        "ringing": "ringing tone",
        "busy": "busy tone",
        "congestion": "congestion tone",
        "noop": "nothing",
        "read": "reads '{value}' into {var}",
        "gosub": "subroutine {dest}",
        "return": "returns to {dest}",
        "return_empty": "Return without Gosub: the call is hung up",
        "step_limit": "step limit of {n} reached: probably an endless loop",
        "time_limit": "time limit of {n} s reached: probably an endless loop",
        "h": "call ended -> h,1",
        "lost_keys": "keys lost (nobody was listening): {keys}",
        "start": "incoming call to {ext}@{ctx}",
        "collected": "dialled '{digits}' -> {digits},1",
        "bg_noarg": "Background without a file name: \"Background requires an argument\", the "
                    "call is hung up",
    },
}


def _dur(x: float) -> str:
    return f"{x:.1f} s"
