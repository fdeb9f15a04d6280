"""JupyterLab's default language: written into the environment's overrides.json, merged."""

from __future__ import annotations

import json
import subprocess
import sys

from toipkit.course.labsettings import TRANSLATION_PLUGIN, overrides_path, set_default_locale


def test_french_becomes_the_default_and_other_overrides_are_kept(tmp_path):
    path = overrides_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
                                TRANSLATION_PLUGIN: {"locale": "en"}}))
    assert set_default_locale(prefix=tmp_path) == path
    settings = json.loads(path.read_text())
    assert settings[TRANSLATION_PLUGIN] == {"locale": "fr_FR"}
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    before = path.stat().st_mtime_ns
    set_default_locale(prefix=tmp_path)  # already French: the file is left alone
    assert path.stat().st_mtime_ns == before


def test_a_fresh_environment_gets_the_file(tmp_path):
    set_default_locale(prefix=tmp_path)
    assert json.loads(overrides_path(tmp_path).read_text()) == {TRANSLATION_PLUGIN: {"locale": "fr_FR"}}


def test_a_broken_overrides_file_is_reported_not_replaced(tmp_path):
    path = overrides_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    code = ("import sys; from toipkit.course.labsettings import set_default_locale; "
            f"set_default_locale(prefix={str(tmp_path)!r})")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode != 0 and "not valid JSON" in run.stderr
    assert path.read_text() == "{not json"
