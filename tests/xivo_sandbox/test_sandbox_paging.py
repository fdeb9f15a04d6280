"""Paging invariants of confd lists, checked on random requests (hypothesis)."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NAMES = ["Geralt", "Yennefer", "Triss", "Hanako", "Evelyn", "Jaskier", "Ciri", "Vesemir",
         "Zoltan", "Emhyr", "Keira", "Lambert"]


def _populate(api) -> list[dict]:
    rnd = random.Random(7)
    users = []
    for i in range(30):
        body = {"firstname": rnd.choice(NAMES), "lastname": f"{rnd.choice(NAMES)}{i % 7}"}
        if i % 3:
            body["userfield"] = f"team-{i % 4}"
        users.append(api.ok("POST", "/users", 201, json=body))
    return users


def test_pages_partition_the_sorted_list(api):
    users = _populate(api)

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(order=st.sampled_from(["firstname", "lastname", "id", "userfield"]),
           direction=st.sampled_from(["asc", "desc"]),
           limit=st.integers(min_value=1, max_value=12),
           search=st.sampled_from([None, "er", "team-1", "ZZZ", "a"]))
    def check(order, direction, limit, search):
        params = {"order": order, "direction": direction}
        if search:
            params["search"] = search
        full = api.ok("GET", "/users", 200, params=params)
        assert full["total"] == len(full["items"])
        # search = substring, case-insensitive, over the searchable columns (reference §2)
        def haystack(u: dict) -> list[str]:
            values = [f"{u['firstname']} {u['lastname']}", "true" if u["enabled"] else "false"]
            values += [u.get(c) or "" for c in (
                "caller_id", "description", "userfield", "email", "mobile_phone_number",
                "music_on_hold", "preprocess_subroutine", "outgoing_caller_id")]
            return values

        expected = [u for u in users if not search or any(
            search.lower() in value.lower() for value in haystack(u))]
        assert sorted(u["id"] for u in full["items"]) == sorted(u["id"] for u in expected)
        # sorted as asked (None last in asc), ties by id
        keys = [(u[order] is None, str(u[order]).lower() if isinstance(u[order], str)
                 else u[order] or 0) for u in full["items"]]
        assert keys == sorted(keys, reverse=direction == "desc")
        # pages of `limit` items partition the full list, total is constant
        seen = []
        for offset in range(0, full["total"] + limit, limit):
            page = api.ok("GET", "/users", 200,
                          params={**params, "limit": limit, "offset": offset})
            assert page["total"] == full["total"]
            assert len(page["items"]) <= limit
            seen.extend(u["id"] for u in page["items"])
        assert seen == [u["id"] for u in full["items"]]

    check()
