"""A real JupyterHub on loopback with 10 users running labs at the same time.

Each user's single-user server (own home, hence own ``~/.toipkit``) runs lab 00 then a share of
labs 01–05b (every lab is run by two users; labs 04, 05a and 05b after lab 02, whose users they
call, as a student would), each in a kernel started through the Hub's API; every executed
notebook is scored by the grader's official rules and every automatically checked exercise must
pass. Each user also starts their own XiVO sandbox
(HTTP API, kamailio, media services) from a kernel and creates a user in it: no one sees
another's. Memory per user (PSS, single-user server and everything it started) is reported.

The full matrix (each of 10 users through labs 00–05b) is ``benchmarks/bench_hub.py``.
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
# After lab 00, what each user runs (cycled): every lab 01–05b twice over the class.
SHARES = (("01",), ("02", "04"), ("03",), ("02", "05a"), ("02", "05b"))


def labs_of(user: str) -> tuple[str, ...]:
    return ("00",) + SHARES[USERS.index(user) % len(SHARES)]

PROBE = """\
import json
from toipkit import paths
from toipkit.xivo import connect, lab, sandbox
with connect(None) as client:
    lab.create_user_with_line(client, "Sonde", "{user}", 189)  # a number no lab uses
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


def test_ten_users_run_the_labs_at_once(hub, record_property, capsys):
    memory: dict[str, tuple[float, float, int]] = {}

    async def one(user: str):
        def measure() -> None:  # the largest of: during each lab, with the sandbox running
            now = user_memory_mb(hub.homes / user)
            memory[user] = max(memory.get(user, now), now)

        scores = {}
        for lab_id in labs_of(user):
            # off the event loop: a blocked loop stops answering the kernels' websocket pings
            nb, lab = await asyncio.to_thread(prepared_lab, lab_id, user)
            executed = await hub.run_notebook(user, nb, before_shutdown=measure)
            scores[lab_id] = await asyncio.to_thread(score, executed, lab)
        probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
            PROBE.format(user=user))])
        await hub.run_notebook(user, probe, before_shutdown=measure)
        return scores, probe

    async def everyone():
        await hub.start_servers(USERS)
        try:
            return await asyncio.gather(*(one(u) for u in USERS))
        finally:
            await hub.stop_servers(USERS)

    outcomes = asyncio.run(everyone())
    urls = set()
    for user, (scores, probe) in zip(USERS, outcomes):
        for lab_id, (percent, missed, errors) in scores.items():
            assert errors == [] and missed == [] and percent == 100.0, \
                (user, lab_id, missed, errors)
        outputs = probe.cells[0].outputs
        assert [o.get("output_type") for o in outputs] == ["stream"], (user, outputs)
        seen = json.loads(outputs[0]["text"].strip().splitlines()[-1])
        home = (hub.homes / user).resolve()
        # Own state, own sandbox, own users: nothing of the nine others.
        assert Path(seen["state"]).resolve() == home / ".toipkit"
        assert Path(seen["data_dir"]).is_relative_to(home)
        # the labs' own users aside, the only test user this sandbox knows is its owner's
        assert [n for n in seen["lastnames"] if n.startswith("etu")] == [user]
        urls.add(seen["url"])
    assert len(urls) == len(USERS)
    assert {lab for user in USERS for lab in labs_of(user)} == {
        "00", "01", "02", "03", "04", "05a", "05b"}

    pss = [m[0] for m in memory.values()]
    rss = [m[1] for m in memory.values()]
    assert len(pss) == len(USERS) and min(pss) > 0
    mean_pss, mean_rss = sum(pss) / len(pss), sum(rss) / len(rss)
    record_property("hub_users", len(USERS))
    record_property("pss_mb_per_user", round(mean_pss, 1))
    record_property("rss_mb_per_user", round(mean_rss, 1))
    with capsys.disabled():
        print(f"\nJupyterHub, {len(USERS)} users, labs 00–05b in live kernels: per user "
              f"PSS {mean_pss:.0f} MB (max {max(pss):.0f}), RSS {mean_rss:.0f} MB "
              "(single-user server + kernel, or + sandbox, kamailio, media services)")
        for retry in hub.retries:  # the harness's kernels, not the labs: said, not hidden
            print(f"kernel lost, notebook run again: {retry}")
