"""A real JupyterHub on loopback with 10 users running a lab at the same time.

Each user's single-user server (own home, hence own ``~/.toipkit``) runs lab 00 in a kernel
started through the Hub's API; the executed notebook is scored by the grader's official rules
and every automatically checked exercise must pass. Each user also starts their own XiVO sandbox
(HTTP API, kamailio, media services) from a kernel and creates a user in it: no one sees
another's. Memory per user (PSS, single-user server and everything it started) is reported.

The full matrix (labs 00–05b × 10 users) is ``benchmarks/bench_hub.py``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub import Hub, hub_available, prepared_lab, score, user_memory_mb  # noqa: E402

USERS = [f"etu{n:02d}" for n in range(10)]
LAB = "00"

PROBE = """\
import json
from toipkit import paths
from toipkit.xivo import connect, lab, sandbox
with connect(None) as client:
    lab.create_user_with_line(client, "Geralt", "{user}", 101)
    info = sandbox.status()
    names = sorted(u["lastname"] for u in client.users.list())
print(json.dumps({{"state": str(paths.state_dir()), "url": info.url, "data_dir": str(info.data_dir),
                  "lastnames": names}}))
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    reason = hub_available()
    if reason:
        pytest.skip(reason)
    with Hub(tmp_path_factory.mktemp("hub"), idle_minutes=30) as running:
        yield running


def test_ten_users_run_a_lab_at_once(hub, record_property, capsys):
    memory: dict[str, tuple[float, float, int]] = {}

    async def one(user: str):
        nb, lab = prepared_lab(LAB, user)

        def measure() -> None:  # the larger of: during the lab, with the sandbox running
            now = user_memory_mb(hub.homes / user)
            memory[user] = max(memory.get(user, now), now)

        executed = await hub.run_notebook(user, nb, before_shutdown=measure)
        probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
            PROBE.format(user=user))])
        await hub.run_notebook(user, probe, before_shutdown=measure)
        return score(executed, lab), probe

    async def everyone():
        await hub.start_servers(USERS)
        try:
            return await asyncio.gather(*(one(u) for u in USERS))
        finally:
            await hub.stop_servers(USERS)

    outcomes = asyncio.run(everyone())
    urls = set()
    for user, ((percent, missed, errors), probe) in zip(USERS, outcomes):
        assert errors == [] and missed == [] and percent == 100.0, (user, missed, errors)
        outputs = probe.cells[0].outputs
        assert [o.get("output_type") for o in outputs] == ["stream"], (user, outputs)
        seen = json.loads(outputs[0]["text"].strip().splitlines()[-1])
        home = (hub.homes / user).resolve()
        # Own state, own sandbox, own users: nothing of the nine others.
        assert Path(seen["state"]).resolve() == home / ".toipkit"
        assert Path(seen["data_dir"]).is_relative_to(home)
        assert seen["lastnames"] == [user]
        urls.add(seen["url"])
    assert len(urls) == len(USERS)

    pss = [m[0] for m in memory.values()]
    rss = [m[1] for m in memory.values()]
    assert len(pss) == len(USERS) and min(pss) > 0
    mean_pss, mean_rss = sum(pss) / len(pss), sum(rss) / len(rss)
    record_property("hub_users", len(USERS))
    record_property("pss_mb_per_user", round(mean_pss, 1))
    record_property("rss_mb_per_user", round(mean_rss, 1))
    with capsys.disabled():
        print(f"\nJupyterHub, {len(USERS)} users, lab {LAB} in a live kernel: per user "
              f"PSS {mean_pss:.0f} MB (max {max(pss):.0f}), RSS {mean_rss:.0f} MB "
              "(single-user server + kernel, or + sandbox, kamailio, media services)")
