"""Bad input never breaks the sandbox: random JSON bodies get 2xx/4xx, never 500, and every
error is confd's list of strings."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toipkit.xivo.sandbox import schema as S

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)

RESOURCES = {
    "/users": S.USER, "/lines": S.LINE, "/endpoints/sip": S.ENDPOINT_SIP,
    "/extensions": S.EXTENSION, "/groups": S.GROUP, "/conferences": S.CONFERENCE,
    "/callfilters": S.CALLFILTER, "/moh": S.MOH, "/schedules": S.SCHEDULE,
    "/incalls": S.INCALL, "/ivr": S.IVR, "/contexts": S.CONTEXT, "/lines_sip": S.LINE_SIP,
}


def _bodies(schema: S.Schema):
    """Dicts over the resource's real field names (and some noise) with random values."""
    names = st.sampled_from(schema.names() + ["id", "links", "bogus"])
    plausible = st.sampled_from(["default", "101", "201", "accueil", "fr_FR", "all", "x" * 200,
                                 "", "_9XXX", "from-extern", "00:00", "25:61"])
    value = JSON | plausible | st.lists(st.dictionaries(
        st.sampled_from(["start", "end", "type", "hours_start", "week_days", "user_id"]),
        JSON | plausible, max_size=3), max_size=2)
    return st.dictionaries(names, value, max_size=6) | JSON


def _check(r) -> None:
    assert r.status_code < 500, (r.request.method, r.request.url, r.text)
    if r.status_code >= 400:
        body = r.json()
        assert isinstance(body, list) and body and all(isinstance(m, str) for m in body), body


def test_random_bodies_never_cause_server_errors(api):
    made = api.user_with_line("Geralt", "Deriv", "101")
    targets = {"/users": made["user"]["id"], "/lines": made["line"]["id"],
               "/endpoints/sip": made["sip"]["id"], "/extensions": made["extension"]["id"]}
    group = api.ok("POST", "/groups", 201, json={"name": "accueil"})
    cf = api.ok("POST", "/callfilters", 201, json={"name": "f", "source": "all",
                                                   "strategy": "all"})

    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(path=st.sampled_from(sorted(RESOURCES)), data=st.data())
    def check(path, data):
        calls.append(path)
        body = data.draw(_bodies(RESOURCES[path]))
        _check(api.post(path, json=body))
        if path in targets:
            _check(api.put(f"{path}/{targets[path]}", json=body))
        sub = data.draw(st.sampled_from([
            f"/groups/{group['id']}/members/users", f"/callfilters/{cf['id']}/recipients/users",
            f"/callfilters/{cf['id']}/surrogates/users", f"/groups/{group['id']}/fallbacks",
            f"/users/{made['user']['id']}/funckeys/1"]))
        _check(api.put(sub, json=body))
        _check(api.get(path, params=data.draw(st.dictionaries(
            st.sampled_from(["search", "order", "direction", "limit", "offset", "view",
                             "firstname", "exten"]), st.text(max_size=6), max_size=3))))

    calls: list[str] = []
    check()
    assert len(calls) >= 100
    # whatever happened, the lab's user is still whole
    assert api.ok("GET", f"/users/{made['user']['uuid']}/lines/main/associated/endpoints/sip",
                  200)["id"] == made["sip"]["id"]


def test_malformed_requests(api):
    http = api.http
    h = {"X-Auth-Token": api.token}
    for content in (b"{", b"\xff\xfe", b"[1, 2", b"null"):
        r = http.post("/1.1/users", content=content,
                      headers={**h, "Content-Type": "application/json"})
        _check(r)
        assert r.status_code == 400
    r = http.post("/1.1/users/import", content=b"\xff\xfe\x00bad",
                  headers={**h, "Content-Type": "text/csv; charset=utf-8"})
    _check(r)
    r = http.post("/1.1/users/import", content=b"",
                  headers={**h, "Content-Type": "text/csv; charset=nope"})
    _check(r)
    r = http.post("/0.1/token", content=b"{", auth=("toipkit", "x"))
    assert r.status_code == 401
