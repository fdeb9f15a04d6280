"""Notebook tests (``pytest --nbval solutions``): one fresh toipkit state folder for the session.

The solution notebooks run in order and share that state (lab 04 uses the users of lab 02), as
a student's would; any XiVO sandbox they start is stopped at the end.
"""

import os
import tempfile
from pathlib import Path

_home = tempfile.mkdtemp(prefix="toipkit-nbval-")
os.environ["TOIPKIT_HOME"] = _home  # set before any kernel starts: kernels inherit it


def pytest_sessionfinish(session, exitstatus):
    try:
        from toipkit.xivo import sandbox
    except ImportError:
        return
    try:
        sandbox.stop(Path(_home) / "sandbox")
    except Exception:
        pass
