"""Links that open a lab for a student: nbgitpuller on the school's JupyterHub, or Binder.

nbgitpuller (a Jupyter server extension) clones or updates the course repository in the
student's home when the link is opened, merging the student's own changes, then opens the
notebook. Its documented query parameters: ``repo`` (required), ``branch``, ``urlpath`` (what
to open afterwards, relative to the server's root) and ``targetpath`` (the folder to clone into,
relative to the home; default: the repository's name). The link goes through
``/hub/user-redirect/`` so that one link works for every student.

    toipkit course link --hub https://hub.example.org --repo https://github.com/org/toip \\
        --branch main --lab 03
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from toipkit.course.layout import LAB_FILE, labs_dir
from toipkit.errors import ToipkitError
from toipkit.i18n import _

DEFAULT_BINDER = "https://mybinder.org"
_GITHUB = re.compile(r"^https://github\.com/(?P<owner>[^/]+)/(?P<name>[^/]+?)(?:\.git)?/?$")


class LinkError(ToipkitError):
    """A link cannot be made from these arguments."""


@dataclass(frozen=True)
class LabLinks:
    nbgitpuller: str | None
    binder: str
    notebook: str | None  # path inside the repository ("labs/03-....ipynb"), None: the folder


def _query(params: list[tuple[str, str]]) -> str:
    # Every reserved character escaped, as the link generators do (encodeURIComponent).
    return "&".join(f"{key}={quote(value, safe='')}" for key, value in params)


def _check_url(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LinkError(_("{what} doit être une URL http(s) avec un hôte, pas {url}").format(
            what=what, url=repr(url)))
    if parts.query or parts.fragment:
        raise LinkError(_("{what} ne doit contenir ni requête (?) ni fragment (#) : {url}").format(
            what=what, url=repr(url)))
    return url.rstrip("/")


def repo_folder(repo: str) -> str:
    """The folder git (and nbgitpuller) would clone ``repo`` into: its last path part
    without ``.git``."""
    name = urlsplit(repo).path.rstrip("/").rsplit("/", 1)[-1]
    name = name[:-4] if name.endswith(".git") else name
    if not name or name in (".", ".."):
        raise LinkError(_("pas de nom de dépôt dans {repo}").format(repo=repr(repo)))
    return name


def lab_notebook(lab: str, root: Path | None = None) -> str:
    """``labs/NN-name.ipynb`` for a lab id (``03``, ``05b``) or a notebook name."""
    folder = labs_dir(root)
    ids: dict[str, str] = {}
    for path in sorted(folder.glob("*.ipynb")):
        match = LAB_FILE.match(path.name)
        if match:
            ids[path.name] = match.group("lab")
    wanted = lab[:-6] if lab.endswith(".ipynb") else lab
    found = [name for name, lab_id in ids.items() if wanted in (lab_id, name[:-6])]
    if not found:
        # "05" names both parts of lab 05: say which ones exist.
        parts = [lab_id for lab_id in ids.values() if wanted.isdigit()
                 and lab_id.startswith(wanted)]
        hint = (" " + _("(ses parties : {parts})").format(parts=", ".join(parts))
                if parts else "")
        raise LinkError(_("pas de TP {lab} dans {folder}{hint} ; TP : {labs}").format(
            lab=repr(lab), folder=folder, hint=hint, labs=", ".join(ids.values())))
    return f"labs/{found[0]}"


def nbgitpuller_url(hub: str, repo: str, *, branch: str | None = None,
                    notebook: str | None = None, targetpath: str | None = None,
                    app: str = "lab") -> str:
    """The link that clones/updates ``repo`` into ``targetpath`` and opens ``notebook``
    (a path inside the repository) in JupyterLab (``app="lab"``) or the classic tree."""
    hub = _check_url(hub, _("l'URL du hub"))
    repo = _check_url(repo, _("l'URL du dépôt"))
    target = targetpath or repo_folder(repo)
    if target.startswith("/") or ".." in target.split("/"):
        raise LinkError(_("targetpath doit rester dans le dossier personnel : {target}").format(
            target=repr(target)))
    if app not in ("lab", "tree"):
        raise LinkError(_("app doit valoir 'lab' ou 'tree', pas {app}").format(app=repr(app)))
    opened = f"{target}/{notebook}" if notebook else target
    urlpath = f"lab/tree/{opened}" if app == "lab" else f"tree/{opened}"
    params = [("repo", repo)]
    if branch:
        params.append(("branch", branch))
    params += [("urlpath", urlpath), ("targetpath", target)]
    return f"{hub}/hub/user-redirect/git-pull?{_query(params)}"


def binder_url(repo: str, *, branch: str | None = None, notebook: str | None = None,
               binder: str = DEFAULT_BINDER) -> str:
    """The Binder link building the image from ``binder/`` and opening ``notebook``."""
    repo = _check_url(repo, _("l'URL du dépôt"))
    binder = _check_url(binder, _("l'URL de Binder"))
    ref = quote(branch or "HEAD", safe="")
    match = _GITHUB.match(repo)
    if match:
        spec = f"gh/{match['owner']}/{match['name']}/{ref}"
    else:
        spec = f"git/{quote(repo, safe='')}/{ref}"
    url = f"{binder}/v2/{spec}"
    if notebook:
        url += "?" + _query([("urlpath", f"lab/tree/{notebook}")])
    return url


def lab_links(hub: str | None, repo: str, *, branch: str | None = None,
              lab: str | None = None, targetpath: str | None = None,
              binder: str = DEFAULT_BINDER, root: Path | None = None) -> LabLinks:
    notebook = lab_notebook(lab, root) if lab else None
    puller = (nbgitpuller_url(hub, repo, branch=branch, notebook=notebook,
                              targetpath=targetpath) if hub else None)
    return LabLinks(puller, binder_url(repo, branch=branch, notebook=notebook, binder=binder),
                    notebook)


def _link_command(args) -> int:
    from pathlib import Path

    links = lab_links(args.hub, args.repo, branch=args.branch, lab=args.lab,
                      targetpath=args.targetpath, binder=args.binder,
                      root=Path(args.root) if args.root else None)
    what = links.notebook or _("le dossier du cours")
    if links.nbgitpuller:
        print(_("JupyterHub (nbgitpuller), ouvre {what} :").format(what=what))
        print(links.nbgitpuller)
    print(_("Binder, ouvre {what} :").format(what=what))
    print(links.binder)
    return 0


def register(commands) -> None:
    """``toipkit course link``: its sub-parser under ``toipkit course``."""
    link = commands.add_parser("link", help=_("afficher les liens qui ouvrent un TP "
                                              "(JupyterHub avec nbgitpuller, Binder)"))
    link.add_argument("--hub", help=_("l'URL du JupyterHub, p. ex. https://hub.example.org "
                                      "(nbgitpuller doit y être installé)"))
    link.add_argument("--repo", required=True, help=_("l'URL git du dépôt du cours"))
    link.add_argument("--branch", help=_("branche ou tag (par défaut : celle du dépôt)"))
    link.add_argument("--lab", help=_("numéro du TP (03, 05b) ou nom du notebook à ouvrir"))
    link.add_argument("--targetpath", help=_("dossier dans le répertoire de l'étudiant "
                                             "(par défaut : le nom du dépôt)"))
    link.add_argument("--binder", default=DEFAULT_BINDER, help=_("URL du BinderHub"))
    link.set_defaults(handler=_link_command)
