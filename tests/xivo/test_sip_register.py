"""REGISTER with digest auth against a real registrar (kamailio) on loopback."""

from __future__ import annotations

import os
import shutil

import pytest

from toipkit.xivo.sip_register import digest_response, parse_challenge, register_check

HAVE_KAMAILIO = shutil.which("kamailio") is not None or os.path.exists("/usr/sbin/kamailio")

ACCOUNTS = {"geralt101": "Kaer-Morhen1", "yen102": "lilac&gooseberries",
            "triss103": "Merigold-103"}


@pytest.fixture(scope="module", params=[True, False], ids=["qop-auth", "no-qop"])
def registrar(request):
    from toipkit.xivo.registrar import kamailio_registrar

    if not HAVE_KAMAILIO:
        pytest.skip("kamailio not installed")
    with kamailio_registrar(ACCOUNTS, qop=request.param) as reg:
        yield reg


def test_right_password_gives_401_then_200(registrar):
    result = register_check(registrar.host, "geralt101", ACCOUNTS["geralt101"],
                            port=registrar.port)
    assert result.ok
    assert [s.status for s in result.steps] == [None, 401, None, 200]
    assert [s.with_credentials for s in result.steps if s.direction == "→"] == [False, True]
    assert result.expires == 60
    assert result.verdict.startswith("✅")
    assert "401 puis 200" in result.verdict


def test_wrong_password_gives_french_verdict(registrar):
    result = register_check(registrar.host, "yen102", "not-the-password", port=registrar.port)
    assert not result.ok
    assert result.status in (401, 403)
    assert result.verdict.startswith("❌ Enregistrement refusé")
    assert "mot de passe SIP" in result.verdict


def test_unknown_account(registrar):
    result = register_check(registrar.host, "ciri", "whatever", port=registrar.port)
    assert result.status == 404
    assert "inconnu" in result.verdict


def test_password_never_in_result(registrar):
    password = ACCOUNTS["yen102"]
    result = register_check(registrar.host, "yen102", password, port=registrar.port)
    assert result.ok
    text = repr(result) + str(result) + result._repr_markdown_() + result.to_frame().to_string()
    assert password not in text


def test_unregister(registrar):
    result = register_check(registrar.host, "geralt101", ACCOUNTS["geralt101"],
                            port=registrar.port, expires=0)
    assert result.status == 200


def test_no_answer_verdict():
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound but never answers
        port = silent.getsockname()[1]
        result = register_check("127.0.0.1", "geralt101", "x", port=port, timeout=0.6)
    assert result.status is None
    assert result.verdict.startswith("❌ Aucune réponse SIP")


def test_digest_rfc2617_example():
    # The worked example of RFC 2617 section 3.5 (GET, qop=auth).
    assert digest_response(
        "Mufasa", "Circle Of Life", "testrealm@host.com", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        "GET", "/dir/index.html", qop="auth", nc="00000001", cnonce="0a4f113b",
    ) == "6629fae49393a05397450978507c4ef1"


def test_parse_challenge():
    params = parse_challenge('WWW-Authenticate: Digest realm="xivo.local", '
                             'nonce="abc,def", qop="auth,auth-int", algorithm=MD5')
    assert params == {"realm": "xivo.local", "nonce": "abc,def", "qop": "auth,auth-int",
                      "algorithm": "MD5"}


def test_capture_shows_the_same_exchange_as_a_live_registrar(registrar):
    from toipkit.paths import data_path
    from toipkit.xivo.sip_register import registration_from_capture

    if not data_path("captures", "register.pcap").exists():
        pytest.skip("data/captures/register.pcap not generated")
    recorded = registration_from_capture(user="102")
    live = register_check(registrar.host, "yen102", ACCOUNTS["yen102"], port=registrar.port)
    shape = [(s.direction, s.status, s.with_credentials) for s in live.steps]
    assert [(s.direction, s.status, s.with_credentials) for s in recorded.steps] == shape
    assert recorded.ok and recorded.challenged and recorded.verdict.startswith("✅")


def test_query_mode_checks_credentials_without_binding(registrar):
    host, port = registrar.host, registrar.port
    empty = register_check(host, "triss103", ACCOUNTS["triss103"], port=port, bind=False)
    assert empty.ok and empty.challenged and empty.bindings == []
    assert "aucun softphone" in empty.verdict
    register_check(host, "triss103", ACCOUNTS["triss103"], port=port)  # a "softphone" binds
    query = register_check(host, "triss103", ACCOUNTS["triss103"], port=port, bind=False)
    assert len(query.bindings) == 1 and query.bindings[0].startswith("sip:triss103@127.0.0.1:")
    assert "1 contact(s)" in query.verdict
    wrong = register_check(host, "triss103", "nope", port=port, bind=False)
    assert not wrong.ok and wrong.verdict.startswith("❌ Enregistrement refusé")


def test_unknown_host_verdict():
    result = register_check("no-such-host.invalid", "geralt101", "x", timeout=0.3)
    assert result.status is None and result.verdict.startswith("❌ Adresse")
