"""Shared set-up of the lab-network tests: a fresh sandbox with the handout's first users."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

TEAM = (("Geralt", "Riv", 101), ("Yennefer", "Vengerberg", 102), ("Triss", "Merigold", 103))


@contextlib.contextmanager
def lab_sandbox(tmp_path_factory, name: str, users=TEAM) -> Iterator[tuple]:
    """(client, data_dir) of a sandbox of its own (registrar included) holding ``users``."""
    from toipkit.xivo import connect, lab, sandbox

    data_dir = tmp_path_factory.mktemp(name)
    sandbox.start(data_dir=data_dir)
    try:
        with connect(None, data_dir=data_dir) as client:
            for first, last, exten in users:
                lab.create_user_with_line(client, first, last, exten)
            yield client, data_dir
    finally:
        sandbox.stop(data_dir)
