"""Suite-wide set-up: a private TOIPKIT_HOME, and how tests are shared between xdist workers.

`make test` runs the suite with ``pytest -n 3 --dist loadfile``. Each test file is one group, so
module-scoped fixtures (a sandbox, a papermill run) are built once, on one worker. The live lab
network tests (``tests/phone/``) form a single group: they mostly wait on real time (calls of
several seconds, RTP pacing) and run one after another on their own worker, so their timings are
not disturbed by each other while the CPU-bound files share the other workers.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REALTIME_DIRS = ("phone",)


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, except that the live-network files share one work unit."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByFileLiveNetworkTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            parts = Path(path).parts
            if len(parts) > 2 and parts[0] == "tests" and parts[1] in REALTIME_DIRS:
                return "live-network"
            return path

    return ByFileLiveNetworkTogether(config, log)


@pytest.fixture(scope="session", autouse=True)
def private_toipkit_home(tmp_path_factory):
    """Never touch the user's own ~/.toipkit (sandbox state, caches) from a test."""
    if os.environ.get("TOIPKIT_HOME"):
        yield
        return
    home = tmp_path_factory.mktemp("toipkit-home")
    os.environ["TOIPKIT_HOME"] = str(home)
    try:
        yield
    finally:
        # A test that used the default sandbox (connect() starts it) leaves it running:
        # the server outlives its caller by design. Stop it with the session.
        from toipkit.xivo import sandbox

        try:
            sandbox.stop()
        finally:
            os.environ.pop("TOIPKIT_HOME", None)
