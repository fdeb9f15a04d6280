"""`toipkit course link`: nbgitpuller and Binder URLs, their encoding, bad input."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

from toipkit.course.link import (
    LinkError,
    binder_url,
    lab_links,
    lab_notebook,
    nbgitpuller_url,
    repo_folder,
)

REPO = "https://github.com/ecole/toip-cours.git"


def test_nbgitpuller_query_round_trips():
    url = nbgitpuller_url("https://hub.example.org/", REPO, branch="release/2026 v1",
                          notebook="labs/03-wireshark-sip-rtp.ipynb")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https", "hub.example.org", "/hub/user-redirect/git-pull")
    assert parse_qs(parts.query, strict_parsing=True) == {
        "repo": [REPO],
        "branch": ["release/2026 v1"],
        "urlpath": ["lab/tree/toip-cours/labs/03-wireshark-sip-rtp.ipynb"],
        "targetpath": ["toip-cours"],
    }
    # Every reserved character is escaped: '/', ':', ' ' and '&' never appear raw in values.
    assert "branch=release%2F2026%20v1&" in url
    assert "repo=https%3A%2F%2Fgithub.com%2Fecole%2Ftoip-cours.git&" in url


def test_nbgitpuller_optional_parts():
    url = nbgitpuller_url("http://127.0.0.1:8000/prefix", "https://git.example.org/a/b&c",
                          targetpath="cours/toip", app="tree")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("http://127.0.0.1:8000/prefix/hub/user-redirect/git-pull?repo=")
    assert "branch" not in query  # nbgitpuller then uses the repository's default branch
    assert query["repo"] == ["https://git.example.org/a/b&c"]
    assert query["urlpath"] == ["tree/cours/toip"]
    assert query["targetpath"] == ["cours/toip"]


def test_binder_urls():
    assert binder_url(REPO, branch="main", notebook="labs/00-prise-en-main.ipynb") == (
        "https://mybinder.org/v2/gh/ecole/toip-cours/main"
        "?urlpath=lab%2Ftree%2Flabs%2F00-prise-en-main.ipynb")
    assert binder_url("https://github.com/ecole/toip-cours") == (
        "https://mybinder.org/v2/gh/ecole/toip-cours/HEAD")
    assert binder_url("https://gitlab.example.org/ecole/toip", branch="v1/a",
                      binder="https://binder.example.org/") == (
        "https://binder.example.org/v2/git/"
        "https%3A%2F%2Fgitlab.example.org%2Fecole%2Ftoip/v1%2Fa")


def test_lab_ids_resolve_to_student_notebooks():
    assert lab_notebook("03") == "labs/03-wireshark-sip-rtp.ipynb"
    assert lab_notebook("05b") == "labs/05b-svi-synthese-vocale.ipynb"
    assert lab_notebook("00-prise-en-main.ipynb") == "labs/00-prise-en-main.ipynb"
    with pytest.raises(LinkError, match=r"ses parties : 05a, 05b"):
        lab_notebook("05")
    with pytest.raises(LinkError, match=r"pas de TP '99'"):
        lab_notebook("99")


def test_link_errors_in_english_on_request(monkeypatch):
    monkeypatch.setenv("TOIPKIT_LANG", "en")
    with pytest.raises(LinkError, match=r"no lab '99' .*; labs: 00"):
        lab_notebook("99")
    with pytest.raises(LinkError, match="the hub URL must be an http"):
        nbgitpuller_url("hub.example.org", REPO)


@pytest.mark.parametrize(("hub", "repo", "message"), [
    ("hub.example.org", REPO, "l'URL du hub doit être une URL http"),
    ("https://hub.example.org/?x=1", REPO, "ne doit contenir ni requête"),
    ("https://hub.example.org", "git@github.com:ecole/toip.git", "l'URL du dépôt doit être"),
    ("https://hub.example.org", "https://github.com/", "pas de nom de dépôt"),
])
def test_bad_input_is_a_clear_error(hub, repo, message):
    with pytest.raises(LinkError, match=message):
        nbgitpuller_url(hub, repo)


def test_targetpath_stays_in_home():
    with pytest.raises(LinkError, match="dans le dossier personnel"):
        nbgitpuller_url("https://hub.example.org", REPO, targetpath="../x")
    assert repo_folder("https://example.org/x/y.git/") == "y"


def test_cli_prints_both_links():
    done = subprocess.run([sys.executable, "-m", "toipkit.cli", "course", "link", "--hub",
                           "https://hub.example.org", "--repo", REPO, "--lab", "02"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    links = lab_links("https://hub.example.org", REPO, lab="02")
    assert links.nbgitpuller in done.stdout.splitlines()
    assert links.binder in done.stdout.splitlines()
    bad = subprocess.run([sys.executable, "-m", "toipkit.cli", "course", "link", "--repo", REPO,
                          "--lab", "05"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0
    assert "05a, 05b" in bad.stderr and "Traceback" not in bad.stderr
