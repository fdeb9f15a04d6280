"""Lab 05a in a real JupyterLab driven by headless Chromium (Chrome DevTools Protocol).

The student copy, answers filled in from the solution, is opened and run in the browser as a
student would. Then, on the page as displayed at 1280 px:

* each lint table's visible text is the findings' text (escaped HTML: a ``$`` in a suggested fix
  stays a ``$``, no LaTeX or Markdown), one row per finding, and no column is cut off;
* the dial-pad widget is rendered (its buttons are on the page);
* the score summary shows the full score;
* the interface is in French when the French language pack is installed.

A screenshot of the first lint table is written next to the test's temporary files.
Skipped when Chromium or JupyterLab is missing.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nbformat
import pytest

from toipkit.course import lab_id_of, lab_notebooks
from toipkit.paths import repo_root

websocket = pytest.importorskip("websocket", reason="websocket-client not installed")
pytest.importorskip("jupyterlab", reason="JupyterLab not installed")
CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed")

WIDTH, HEIGHT = 1280, 900
NOTEBOOK = "05a.ipynb"
# The lab's notebook panel in JupyterLab's main area (the app is exposed by the test's server).
PANEL = ("window.jupyterapp && Array.from(window.jupyterapp.shell.widgets('main'))"
         f".find(w => w.context && w.context.path === '{NOTEBOOK}')")


def _lab(folder: Path) -> Path:
    return next(p for p in lab_notebooks(folder) if lab_id_of(p) == "05a")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _filled_student_copy() -> nbformat.NotebookNode:
    """The student lab with each exercise cell replaced by the solution's (same cell ids)."""
    student = nbformat.read(_lab(repo_root() / "labs"), as_version=4)
    teacher = {c.get("id"): c.source
               for c in nbformat.read(_lab(repo_root() / "solutions"), as_version=4).cells}
    for cell in student.cells:
        if cell.cell_type == "code" and "raise NotImplementedError()" in cell.source:
            cell.source = teacher[cell.get("id")]
    return student


def _expected_findings(nb: nbformat.NotebookNode) -> list[list[list[str]]]:
    """Each lint table of the lab, computed here: rows of (line, rule, message, correction)."""
    from toipkit.dialplan import handout_path, lint, parse

    namespace: dict = {"parse": parse, "handout_path": handout_path}
    circuit = next(c.source for c in nb.cells if c.source.startswith("circuit = "))
    exec(circuit, namespace)  # the lab's own dialplan text (defines circuit and plan)
    from toipkit.dialplan import parse_file

    tables = [lint(namespace["plan"]), lint(parse_file(handout_path("handout-s17-ivr.conf")))]
    return [[[str(f.line), f.rule, f.message, f.hint] for f in table] for table in tables]


class DevTools:
    """The smallest Chrome DevTools Protocol client: one page, requests answered in order."""

    def __init__(self, ws_url: str) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0

    def send(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def js(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                           returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.25)
        page = self.js("JSON.stringify([location.href, typeof window.jupyterapp,"
                       " window.jupyterapp && String(window.jupyterapp.shell.currentWidget),"
                       " document.body ? document.body.innerText.slice(0, 100) : ''])")
        raise AssertionError(f"timed out waiting for {what}; page: {page}")

    def close(self) -> None:
        self.ws.close()


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def lab_page(tmp_path_factory):
    work = tmp_path_factory.mktemp("browser")
    root = work / "labs"
    root.mkdir()
    nb = _filled_student_copy()
    nbformat.write(nb, root / NOTEBOOK)
    port, token = _free_port(), "toipkit-browser-test"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(work / "user-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces"),
           "JUPYTER_CONFIG_DIR": str(work / "config")}
    env.pop("TOIPKIT_LANG", None)
    # Every cell kept rendered (JupyterLab 4 detaches the cells scrolled out of view by default):
    # the texts and sizes read below are those a student sees when scrolling to them.
    tracker = work / "user-settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    # No "news from Jupyter?" pop-up over the screenshot (and no request to the Internet).
    notices = work / "user-settings" / "@jupyterlab" / "apputils-extension"
    notices.mkdir(parents=True)
    (notices / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(work / "jupyterlab.log", "wb"))
    profile = work / "chromium"
    browser = subprocess.Popen(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--remote-debugging-port=0", f"--user-data-dir={profile}",
         f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tools = None
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:  # the server answers, and Chromium says which port it debugs on
            try:
                ready = httpx.get(f"{base}/api/status", params={"token": token}, timeout=2)
                if ready.status_code == 200 and (profile / "DevToolsActivePort").exists():
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, (work / "jupyterlab.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "JupyterLab or Chromium did not start in 60 s"
            time.sleep(0.25)
        devtools_port = (profile / "DevToolsActivePort").read_text().split()[0]
        pages = httpx.get(f"http://127.0.0.1:{devtools_port}/json/list", timeout=5).json()
        page = next(p for p in pages if p["type"] == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        tools.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT,
                   deviceScaleFactor=1, mobile=False)
        tools.send("Emulation.setFocusEmulationEnabled", enabled=True)  # headless has no focus
        tools.send("Page.navigate", url=f"{base}/lab/tree/{NOTEBOOK}?token={token}")
        tools.wait_for(f"!!({PANEL})", 40, "the notebook to open")
        ran = tools.js(f"""(async () => {{
            const app = window.jupyterapp, panel = {PANEL};
            await panel.context.ready;
            await panel.sessionContext.ready;
            app.shell.activateById(panel.id);
            return await app.commands.execute('notebook:run-all-cells');
        }})()""")
        assert ran is not False, "a cell failed while running the lab"
        tools.wait_for("!!document.querySelector('table.toipkit-summary')", 60,
                       "the score summary")
        yield tools, nb, work
    finally:
        if tools is not None:
            tools.close()
        _stop(browser)
        _stop(server)


LINT_TABLES = """Array.from(document.querySelectorAll('table.toipkit-lint')).map(t =>
    Array.from(t.querySelectorAll('tbody tr')).map(r =>
        Array.from(r.querySelectorAll('td')).map(c => c.innerText.replace(/\\s+/g, ' ').trim())))"""


def test_lint_tables_show_the_findings_text_as_written(lab_page):
    tools, nb, work = lab_page
    shown = tools.js(LINT_TABLES)
    expected = [[[" ".join(cell.split()) for cell in row] for row in table]
                for table in _expected_findings(nb)]
    # lint(plan), lint(corrige) (no finding: no table) and lint(ivr), in page order
    assert [[[r[0], r[2], r[3], r[4]] for r in table] for table in shown] == expected
    assert any("$[" in row[4] for table in shown for row in table), "no $ left to check"


def test_lint_columns_fit_a_1280_px_screen(lab_page):
    tools, _, work = lab_page
    overflow = tools.js("""Array.from(document.querySelectorAll('table.toipkit-lint')).map(t => {
        const area = t.closest('.jp-OutputArea-output') || t.parentElement;
        const right = Math.max(...Array.from(t.querySelectorAll('td, th')).map(
            c => c.getBoundingClientRect().right));
        return [t.getBoundingClientRect().width, t.scrollWidth - area.clientWidth,
                right - window.innerWidth];
    })""")
    assert overflow and all(shown > 600 and width <= 1 and right <= 1
                            for shown, width, right in overflow), overflow
    # A picture of the screen showing the first table, to look at when the layout changes.
    tools.js("document.querySelector('table.toipkit-lint').scrollIntoView()")
    time.sleep(0.3)
    shot = tools.send("Page.captureScreenshot", format="png")
    path = work / "lint-table-1280.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"\nscreenshot: {path}")


def test_the_dial_pad_widget_renders(lab_page):
    tools, _, _ = lab_page
    labels = tools.js("""Array.from(document.querySelectorAll('.jupyter-widgets button'))
        .map(b => b.innerText.trim())""")
    assert {"1", "2", "3", "#", "*", "0"} <= set(labels), labels
    errors = tools.js("document.body.innerText.includes('Error displaying widget')")
    assert not errors


def test_the_score_summary_shows_full_marks(lab_page):
    tools, _, _ = lab_page
    text = tools.js("document.querySelector('table.toipkit-summary').parentElement.innerText")
    assert "Total (auto-vérification) : 10/10" in text, text
    assert "rien, bravo !" in text


def test_the_interface_is_in_french(lab_page):
    from toipkit.course.labsettings import french_pack_installed

    if not french_pack_installed():
        pytest.skip("jupyterlab-language-pack-fr-FR not installed")
    tools, _, _ = lab_page
    menus = tools.js("Array.from(document.querySelectorAll('.lm-MenuBar-itemLabel'))"
                     ".map(m => m.innerText)")
    assert "Fichier" in menus, menus
