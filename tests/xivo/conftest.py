"""Fixtures: one sandbox server (real HTTP on 127.0.0.1, real SQLite) for the xivo tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sandbox_dir(tmp_path_factory):
    from toipkit.xivo import sandbox

    data_dir = tmp_path_factory.mktemp("sandbox")
    sandbox.start(data_dir=data_dir)
    yield data_dir
    sandbox.stop(data_dir)


@pytest.fixture
def client(sandbox_dir):
    """A client on a freshly reset sandbox (state right after the wizard)."""
    from toipkit.xivo import connect, sandbox

    sandbox.reset(sandbox_dir)
    with connect(None, data_dir=sandbox_dir) as c:
        yield c
