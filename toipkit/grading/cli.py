"""``toipkit grade``: grade submitted notebooks of one lab."""

from __future__ import annotations

import argparse
from pathlib import Path

from toipkit.i18n import _


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "grade",
        help=_("corriger les notebooks rendus d'un TP (exécutions papermill parallèles et "
               "confinées)"),
        description=_(
            "Exécuter chaque notebook rendu avec papermill dans son propre processus, avec les "
            "cellules de vérification officielles remises, des limites de temps et de mémoire et "
            "les données cachées de l'enseignant ; écrire grades.csv, un retour par étudiant "
            "(Markdown + HTML), les notebooks exécutés (nettoyés) et un journal d'exécution."
        ),
    )
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help=_("un notebook, un dossier de notebooks (étudiant = nom du fichier) ou "
                          "un dossier de dossiers d'étudiants"))
    p.add_argument("--lab", help=_("numéro du TP, p. ex. 03 ou 05a (ou 'lab:' dans grading.yaml)"))
    p.add_argument("--params", metavar="grading.yaml",
                   help=_("données cachées, points, limites (voir docs/grading.md)"))
    p.add_argument("--solutions", metavar="DIR",
                   help=_("dossier des notebooks de l'enseignant (par défaut : solutions/ du "
                          "dépôt)"))
    p.add_argument("--workers", type=int, help=_("rendus en parallèle (par défaut : nombre de cœurs)"))
    p.add_argument("--out", metavar="DIR", help=_("dossier de sortie (par défaut : ./grading-NN)"))
    p.add_argument("--timeout-cell", type=float, metavar="S", help=_("secondes par cellule (60 par défaut)"))
    p.add_argument("--timeout", type=float, metavar="S",
                   help=_("secondes pour un notebook entier (600 par défaut)"))
    p.add_argument("--memory", type=int, metavar="MB",
                   help=_("limite d'espace d'adressage de chaque noyau (2048 par défaut)"))
    p.add_argument("--network", action="store_true", default=None,
                   help=_("laisser le code de l'étudiant joindre d'autres machines (par défaut : "
                          "pas de réseau, seulement la boucle locale du bac à sable)"))
    p.add_argument("--unsafe-no-isolation", action="store_true",
                   help=_("exécuter le code de l'étudiant hors du confinement bubblewrap (seulement "
                          "pour des rendus de confiance, là où les user namespaces sont interdits)"))
    p.add_argument("--no-progress", action="store_true", help=_("sans barre de progression"))
    p.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help=_("corriger sur une grappe Dask (pip install 'toipkit[scale]') ; voir "
                          "docs/grading.md"))
    p.add_argument("--cluster", metavar="local:N",
                   help=_("corriger sur une grappe Dask locale de N processus"))
    p.add_argument("--regrade", action="store_true",
                   help=_("avec Dask : tout corriger de nouveau, sans tenir compte des rendus "
                          "terminés enregistrés dans le dossier de sortie"))
    p.set_defaults(handler=_grade)


def _grade(args: argparse.Namespace) -> int:
    from toipkit.grading.report import fmt
    from toipkit.grading.runner import grade

    common = dict(params=args.params, solutions=args.solutions, out=args.out,
                  cell_timeout=args.timeout_cell, timeout=args.timeout, memory_mb=args.memory,
                  progress=not args.no_progress, network=args.network,
                  isolate=False if args.unsafe_no_isolation else None)
    if args.scheduler or args.cluster:
        from toipkit.grading.distributed import grade_distributed

        result = grade_distributed(args.submissions, args.lab, scheduler=args.scheduler,
                                   cluster=args.cluster, resume=not args.regrade, **common)
    else:
        result = grade(args.submissions, args.lab, workers=args.workers, **common)
    counts: dict[str, int] = {}
    for r in result.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    mean = sum(r.percent for r in result.results) / max(len(result.results), 1)
    print(_("TP {lab} : {n} rendu(s) ({summary}), moyenne {mean} %, {seconds} s").format(
        lab=result.lab, n=len(result.results), summary=summary, mean=fmt(round(mean, 1)),
        seconds=f"{result.seconds:.1f}"))
    out = result.out or Path(".")
    print(_("notes : {path}").format(path=out / "grades.csv"))
    print(_("retours : {path}/").format(path=out / "feedback"))
    return 0
