"""Lab 01 helpers: interfaces stanza, the /30 vs /24 inconsistency, wizard values."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toipkit.errors import ToipkitError
from toipkit.xivo.network import (
    WizardSettings,
    check_network,
    check_stanza,
    interfaces_stanza,
    parse_interfaces,
    vm_checklist,
    vm_ok,
)

HANDOUT = """iface eth0 inet static
 address 192.168.0.1/30
 gateway 192.168.0.2
"""


def test_handout_stanza_is_inconsistent_with_its_network():
    result = check_stanza(HANDOUT, "192.168.0.0/24")
    assert not result.ok
    assert len(result.problems) == 1
    text = result.problems[0]
    assert "/30" in text and "192.168.0.0/24" in text and "192.168.0.1/24" in text


def test_fixed_stanza_round_trip():
    text = interfaces_stanza("192.168.0.1/24", "192.168.0.2", dns=["8.8.8.8"])
    cfg = parse_interfaces(text)
    assert cfg.iface == "eth0"
    assert cfg.address == ipaddress.ip_interface("192.168.0.1/24")
    assert str(cfg.gateway) == "192.168.0.2"
    assert cfg.dns == ["8.8.8.8"]
    assert check_stanza(text).ok


def test_netmask_form():
    cfg = parse_interfaces("auto eth1\niface eth1 inet static\n  address 10.0.0.5\n"
                           "  netmask 255.255.255.0\n  gateway 10.0.0.1\n")
    assert cfg.address.network == ipaddress.ip_network("10.0.0.0/24")


@pytest.mark.parametrize(("address", "gateway", "fragment"), [
    ("192.168.0.1/24", "192.168.1.1", "n'est pas dans le réseau 192.168.0.0/24 de"),
    ("192.168.0.1/24", "192.168.0.1", "l'adresse du serveur"),
    ("192.168.0.255/24", "192.168.0.1", "diffusion"),
    ("10.0.0.1/24", "10.0.0.2", "n'est pas dans le réseau 192.168.0.0/24"),
])
def test_other_problems(address, gateway, fragment):
    result = check_network(address, gateway, "192.168.0.0/24")
    assert any(fragment in p for p in result.problems), result.problems


def test_bad_address_line_number():
    with pytest.raises(ToipkitError, match="line 3"):
        parse_interfaces("auto eth0\niface eth0 inet static\n address 192.168.0.300/24\n")


def test_vm_checklist():
    frame = vm_checklist(1, 2, 20)
    assert list(frame["ressource"]) == ["Processeur", "Mémoire vive", "Disque"]
    assert frame["verdict"].iloc[0].startswith("⚠️")
    assert vm_ok(1, 2, 20) and not vm_ok(2, 1, 20)


def test_wizard():
    wiz = WizardSettings()
    assert wiz.entity_name == "badlands"
    assert wiz.problems() == []
    assert WizardSettings(dns="8.8.8").problems() == ["DNS invalide : '8.8.8'"]


@settings(max_examples=200, deadline=None)
@given(prefix=st.integers(min_value=8, max_value=30), host=st.integers(min_value=0),
       gw=st.integers(min_value=0), base=st.integers(min_value=0, max_value=2**32 - 1))
def test_check_network_agrees_with_ipaddress(prefix, host, gw, base):
    """A configuration inside the expected network, same prefix, gateway a different host of
    it, is OK; check_stanza(interfaces_stanza(...)) says the same as check_network."""
    net = ipaddress.ip_network((base, prefix), strict=False)
    hosts = net.num_addresses - 2
    address = net.network_address + 1 + host % hosts
    gateway = net.network_address + 1 + gw % hosts
    iface = f"{address}/{prefix}"
    result = check_network(iface, str(gateway), str(net))
    assert result.ok == (address != gateway)
    assert check_stanza(interfaces_stanza(iface, str(gateway)), str(net)).problems == \
        result.problems
    if prefix < 30:  # a narrower prefix than the network's is always reported
        narrow = check_network(f"{address}/{prefix + 1}", str(gateway), str(net))
        assert any(f"/{prefix + 1}" in p for p in narrow.problems)
