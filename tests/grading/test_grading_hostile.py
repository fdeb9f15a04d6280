"""Submissions that try to earn points without the answers (lab 00, graded for real).

The official checks are judged in the grader's process from the plain answers that the official
cells export, so objects that compare equal to anything, frame inspection, rebinding the check
module and cell hooks gain nothing; the official rules never enter the kernel.
"""

from __future__ import annotations

import nbformat
import pytest

from toipkit.grading import grade
from toipkit.paths import repo_root

LAB = repo_root() / "labs" / "00-prise-en-main.ipynb"
SOLUTIONS = repo_root() / "solutions"

ALWAYS_EQUAL = """class Toujours:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
    def __float__(self):
        return 64.0
debit_kbps = Toujours()"""

SNEAKY_FLOAT = """class Flottant(float):
    def __eq__(self, other):
        return True
    __hash__ = float.__hash__
debit_kbps = Flottant(1.0)"""

READS_FRAMES = """import sys
class Espion:
    def __float__(self):
        frame = sys._getframe(1)
        while frame is not None:
            for name in ("expected", "want", "rule"):
                if name in frame.f_locals:
                    value = frame.f_locals[name]
                    return float(getattr(value, "expected", value))
            frame = frame.f_back
        return 0.0
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
debit_kbps = Espion()"""

REBINDS_CHECKS = """import toipkit.checks as vrai
def faux(exercise, *args, **kwargs):
    return vrai.check_true(exercise, True)
vrai.verify = faux
setattr(vrai, "verify", faux)
class Faux:
    def __getattr__(self, name):
        return faux
checks = Faux()
debit_kbps = 1"""

HOOK = """import toipkit.checks as vrai
from IPython.display import display
vus = []
def espion(info):
    vus.append(info.raw_cell)
    if "verify(" in info.raw_cell:
        vrai.check_true("00-debit-g711", True)
        display({vrai.ANSWER_MIME_TYPE: {"exercise": "00-debit-g711", "value": 64, "problem": ""},
                 "text/plain": "faux"}, raw=True)
get_ipython().events.register("pre_run_cell", espion)
debit_kbps = 1"""

PRINT_SEEN = "print('VU:', [source for source in vus if 'verify(' in source])"


FLOOD = """from IPython.display import display
import toipkit.checks as vrai
for n in range(4):
    display({vrai.MIME_TYPE: {"exercise": "00-debit-g711", "passed": True, "pad": "x" * 1500000},
             vrai.ANSWER_MIME_TYPE: {"exercise": "00-debit-g711", "value": "y" * 1500000},
             "text/plain": "faux"}, raw=True)"""


def _submission(first: str, second: str = "paquets_par_seconde = 50", extra: str | list = ""):
    nb = nbformat.read(LAB, as_version=4)
    todo = [c for c in nb.cells if c.cell_type == "code" and "raise NotImplementedError" in c.source]
    todo[0].source = first + "\ndebit_kbps"
    todo[1].source = second
    for source in [extra] if isinstance(extra, str) and extra else extra or []:
        nb.cells.append(nbformat.v4.new_code_cell(source))
    return nb


CASES = {
    "honnete": (_submission("debit_kbps = 8000 * 8 / 1000"), 2, ""),
    "toujours-egal": (_submission(ALWAYS_EQUAL), 1, ""),
    "flottant": (_submission(SNEAKY_FLOAT), 1, ""),
    "espion-cadres": (_submission(READS_FRAMES), 1, ""),
    "rebinding": (_submission(REBINDS_CHECKS), 0, ""),
    "crochet": (_submission(HOOK, extra=PRINT_SEEN), 1, "extra answers"),
    "inondation": (_submission("debit_kbps = 1", extra=[FLOOD] * 8), 1, ""),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not LAB.exists():
        pytest.skip("labs/00 not built")
    base = tmp_path_factory.mktemp("hostile")
    subs = base / "submissions"
    subs.mkdir()
    for name, (nb, _, _) in CASES.items():
        nbformat.write(nb, subs / f"{name}.ipynb")
    report = grade([subs], "00", solutions=SOLUTIONS, out=base / "out", workers=2,
                   cell_timeout=30, timeout=180, progress=False)
    return report, base / "out"


@pytest.mark.parametrize("name", list(CASES))
def test_no_unearned_point(graded, name):
    report, _ = graded
    _, points, note = CASES[name]
    result = report.result(name)
    assert result.status == "ok"
    assert result.total == points, [(e.exercise, e.points, e.detail) for e in result.exercises]
    assert note in result.note
    if name != "honnete":
        debit = next(e for e in result.exercises if e.exercise == "00-debit-g711")
        assert debit.points == 0 and debit.detail  # a French reason is given


def test_wrong_types_are_named_in_french(graded):
    report, _ = graded
    debit = next(e for e in report.result("toujours-egal").exercises if e.exercise == "00-debit-g711")
    assert "Type de réponse non reconnu (Toujours)" in debit.detail


def test_official_rules_never_reach_the_kernel(graded):
    _, out = graded
    kept = (out / "notebooks" / "crochet.ipynb").read_text(encoding="utf-8")
    assert "VU:" in kept and "verify(" in kept  # the hook saw the official cells...
    assert "Close(" not in kept and "RULES" not in kept  # ...which hold no rule
    assert "64" not in kept.split("VU:", 1)[1].split("sealed")[0]


def test_record_typed_outputs_cannot_escape_the_output_caps(graded):
    _, out = graded
    size = (out / "notebooks" / "inondation.ipynb").stat().st_size
    assert size < 22 * 2**20, size  # 8 cells x 12 MB of "records" were displayed
    assert "KiB of output removed" in (out / "notebooks" / "inondation.ipynb").read_text(
        encoding="utf-8")


def test_a_cell_that_ignores_the_interrupt_is_a_timeout(tmp_path):
    if not LAB.exists():
        pytest.skip("labs/00 not built")
    subs = tmp_path / "subs"
    subs.mkdir()
    deaf = ("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "while True:\n    time.sleep(0.1)")
    nbformat.write(_submission(deaf), subs / "sourd.ipynb")
    report = grade([subs], "00", solutions=SOLUTIONS, out=tmp_path / "out", workers=1,
                   cell_timeout=4, timeout=120, progress=False)
    result = report.result("sourd")
    assert result.status == "timeout" and "ignored the interrupt" in result.note
    assert result.total == 0


def test_a_secret_passed_down_never_reaches_the_kept_notebook(tmp_path, monkeypatch):
    from toipkit.grading.config import GradingConfig

    if not LAB.exists():
        pytest.skip("labs/00 not built")
    secret = "mdp-XiVO-9f2c41"
    monkeypatch.setenv("TOIPKIT_TEST_XIVO_PASSWORD", secret)
    subs = tmp_path / "subs"
    subs.mkdir()
    leak = "import os\nprint('mot de passe :', os.environ['TOIPKIT_TEST_XIVO_PASSWORD'])"
    nbformat.write(_submission("debit_kbps = 64", extra=leak), subs / "fuite.ipynb")
    # Written to the kernel's stderr, then the kernel dies: its last output is logged.
    dying = ("import os\nos.write(2, ('mdp=' + os.environ['TOIPKIT_TEST_XIVO_PASSWORD'])"
             ".encode())\nos._exit(3)")
    nbformat.write(_submission("debit_kbps = 64", extra=dying), subs / "fuite-morte.ipynb")
    report = grade([subs], "00", params=GradingConfig(env=["TOIPKIT_TEST_XIVO_PASSWORD"]),
                   solutions=SOLUTIONS, out=tmp_path / "out", workers=2, progress=False)
    assert report.result("fuite").status == "ok"
    assert report.result("fuite-morte").status == "error"  # its last output goes to the log
    kept = (tmp_path / "out" / "notebooks" / "fuite.ipynb").read_text(encoding="utf-8")
    assert "mot de passe : <secret>" in kept  # the kernel had it, the kept copy does not
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(encoding="utf-8", errors="replace"), path


def test_a_notebook_saved_mid_flood_is_capped(tmp_path):
    """What papermill saved when a cell never completed (no on_cell_executed) is capped too."""
    from toipkit.grading.worker import _cap_saved_notebook

    cells = []
    for _ in range(10):
        cell = nbformat.v4.new_code_cell("while True: print('x' * 100000)")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 3_000_000)]
        cells.append(cell)
    path = tmp_path / "output.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    _cap_saved_notebook(path, 4_000_000, 10_000_000)
    assert path.stat().st_size < 11_000_000
    text = path.read_text(encoding="utf-8")
    assert "KiB of output removed" in text
    nbformat.validate(nbformat.read(path, as_version=4))


def test_a_real_xivo_password_stays_in_the_grader(tmp_path, monkeypatch):
    """The kernel gets a token (revoked after the run), never the password it was logged in with.

    The sandbox server plays the real XiVO here: a real HTTP server on loopback with XiVO's
    auth API (POST/GET/DELETE /0.1/token).
    """
    import httpx

    from toipkit.grading.config import GradingConfig
    from toipkit.xivo import connect, sandbox

    if not LAB.exists():
        pytest.skip("labs/00 not built")
    server_dir = tmp_path / "xivo"
    info = sandbox.start(data_dir=server_dir)
    try:
        login = sandbox.credentials(data_dir=server_dir)
        monkeypatch.setenv("XIVO_USERNAME", login.username)
        monkeypatch.setenv("XIVO_PASSWORD", login.password)
        subs = tmp_path / "subs"
        subs.mkdir()
        # A student who looks for the password, and sends the token out (reversed, so the
        # masking of kept notebooks cannot hide it): the test then tries to use it.
        spy = ("import os\nprint('mot de passe :', os.environ.get('XIVO_PASSWORD'))\n"
               "print('jeton :', os.environ.get('XIVO_TOKEN'))\n"
               "print('inverse :', os.environ.get('XIVO_TOKEN', '')[::-1])\n"
               "from toipkit.xivo.lab import connect_lab\n"
               "client = connect_lab(xivo_url, interactive=False)\n"
               "print('contextes :', len(client.contexts.list()) > 0)")
        nbformat.write(_submission("debit_kbps = 64", extra=spy), subs / "curieux.ipynb")
        config = GradingConfig(env=["XIVO_USERNAME", "XIVO_PASSWORD"], network=True,
                               parameters={"xivo_url": info.url})
        report = grade([subs], "00", params=config, solutions=SOLUTIONS, out=tmp_path / "out",
                       workers=1, progress=False)
        assert report.result("curieux").status == "ok", report.result("curieux").note
        kept = nbformat.read(tmp_path / "out" / "notebooks" / "curieux.ipynb", as_version=4)
        printed = "".join(o.get("text", "") for c in kept.cells for o in c.get("outputs", []))
        assert "mot de passe : None" in printed  # the kernel never had it
        assert "jeton : <secret>" in printed  # the kept copy masks the token
        assert "contextes : True" in printed  # and the token worked during the run
        token = printed.split("inverse : ", 1)[1].split("\n", 1)[0][::-1]
        assert len(token) >= 16
        answer = httpx.get(f"{info.url}/0.1/token/{token}", timeout=10)
        assert answer.status_code == 404, answer.text  # revoked when the run ended
        with connect(info.url, username=login.username, password=login.password) as control:
            live = httpx.get(f"{info.url}/0.1/token/{control._ensure_token()}", timeout=10)
        assert live.status_code == 200  # the same request for a live token is answered
        for path in (tmp_path / "out").rglob("*"):
            if path.is_file():
                assert login.password not in path.read_text(encoding="utf-8", errors="replace")
    finally:
        sandbox.stop(server_dir)
