"""Lab 01 helpers: the VM checklist, the ``/etc/network/interfaces`` stanza, the wizard values.

The handout configures ``address 192.168.0.1/30`` while announcing a VoIP network
``192.168.0.0/24``: :func:`check_network` spots that kind of inconsistency with ``ipaddress``.
Verdicts are in French (they are shown to students).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toipkit.errors import ToipkitError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


# --------------------------------------------------------------------------------------
# VM checklist (handout §1)
# --------------------------------------------------------------------------------------
#: (need, unit, minimum, recommended)
VM_REQUIREMENTS = (
    ("Processeur", "vCPU", 1, 2),
    ("Mémoire vive", "Go", 2, 2),
    ("Disque", "Go", 20, 20),
)


def vm_checklist(cpus: float, ram_gb: float, disk_gb: float) -> pd.DataFrame:
    """One row per resource: value, minimum, recommended and a French verdict."""
    import pandas as pd

    rows = []
    for (name, unit, minimum, recommended), value in zip(VM_REQUIREMENTS, (cpus, ram_gb, disk_gb),
                                                         strict=True):
        if value < minimum:
            verdict = f"❌ insuffisant (minimum {minimum} {unit})"
        elif value < recommended:
            verdict = f"⚠️ suffisant, {recommended} {unit} conseillés"
        else:
            verdict = "✅ OK"
        rows.append({"ressource": name, "valeur": value, "unité": unit, "minimum": minimum,
                     "conseillé": recommended, "verdict": verdict})
    return pd.DataFrame(rows)


def vm_ok(cpus: float, ram_gb: float, disk_gb: float) -> bool:
    """True when every resource reaches its minimum."""
    return all(v >= m for (_, _, m, _), v in zip(VM_REQUIREMENTS, (cpus, ram_gb, disk_gb),
                                                 strict=True))


# --------------------------------------------------------------------------------------
# /etc/network/interfaces (handout §3)
# --------------------------------------------------------------------------------------
def interfaces_stanza(address: str, gateway: str, *, iface: str = "eth0",
                      dns: list[str] | tuple[str, ...] | str | None = None,
                      auto: bool = True) -> str:
    """A Debian ``/etc/network/interfaces`` stanza for a static address (CIDR notation)."""
    interface = ipaddress.ip_interface(address)
    ipaddress.ip_address(gateway)  # raises ValueError on a typo
    lines = []
    if auto:
        lines.append(f"auto {iface}")
    lines += [f"iface {iface} inet static",
              f"    address {interface.with_prefixlen}",
              f"    gateway {gateway}"]
    if dns:
        servers = [dns] if isinstance(dns, str) else list(dns)
        lines.append("    dns-nameservers " + " ".join(servers))
    return "\n".join(lines) + "\n"


@dataclass
class InterfaceConfig:
    iface: str
    address: ipaddress.IPv4Interface | ipaddress.IPv6Interface
    gateway: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    dns: list[str] = field(default_factory=list)


def parse_interfaces(text: str, iface: str | None = None) -> InterfaceConfig:
    """Read the first static stanza (or ``iface``'s) of an interfaces file.

    Accepts ``address a.b.c.d/nn`` or ``address a.b.c.d`` + ``netmask``. Errors name the line.
    """
    current = None
    found: dict[str, Any] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] == "iface":
            if current is not None and found.get("address"):
                break
            if len(words) < 4 or words[2] not in ("inet", "inet6"):
                raise ToipkitError(f"line {number}: expected 'iface NAME inet static': {raw!r}")
            if iface is None or words[1] == iface:
                current = words[1]
                found = {"method": words[3], "line": number}
            else:
                current = None
            continue
        if current is None:
            continue
        key, value = words[0], " ".join(words[1:])
        try:
            if key == "address":
                found["address"] = value
                found["address_line"] = number
            elif key == "netmask":
                found["netmask"] = value
            elif key == "gateway":
                found["gateway"] = ipaddress.ip_address(value)
            elif key == "dns-nameservers":
                found["dns"] = value.split()
        except ValueError as exc:
            raise ToipkitError(f"line {number}: {exc}") from None
    if not found.get("address"):
        raise ToipkitError("no static 'iface ... inet static' stanza with an address found")
    addr = found["address"]
    try:
        if "/" not in addr and found.get("netmask"):
            addr = f"{addr}/{found['netmask']}"
        interface = ipaddress.ip_interface(addr)
    except ValueError as exc:
        raise ToipkitError(f"line {found['address_line']}: {exc}") from None
    return InterfaceConfig(current or "", interface, found.get("gateway"), found.get("dns", []))


@dataclass
class NetworkCheck:
    """Problems found in an address/gateway pair against the expected VoIP network."""

    address: str
    gateway: str
    expected_network: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return (f"✅ {self.address}, passerelle {self.gateway} : cohérent avec le réseau "
                    f"{self.expected_network}.")
        return "\n".join(["❌ Configuration réseau incohérente :"]
                         + [f"  - {p}" for p in self.problems])

    def _repr_markdown_(self) -> str:
        if self.ok:
            return str(self)
        return "❌ **Configuration réseau incohérente :**\n\n" + "\n".join(
            f"- {p}" for p in self.problems)


def check_network(address: str, gateway: str, expected_network: str = "192.168.0.0/24"
                  ) -> NetworkCheck:
    """Compare ``address`` (CIDR) and ``gateway`` with the network the VoIP LAN should use."""
    interface = ipaddress.ip_interface(address)
    gw = ipaddress.ip_address(gateway)
    expected = ipaddress.ip_network(expected_network, strict=False)
    net = interface.network
    problems: list[str] = []
    if interface.ip not in expected:
        problems.append(f"l'adresse {interface.ip} n'est pas dans le réseau {expected}.")
    elif net.prefixlen != expected.prefixlen:
        hosts = list(net.hosts()) if net.num_addresses <= 256 else []
        span = f" ({hosts[0]} à {hosts[-1]})" if hosts else ""
        usable = max(net.num_addresses - 2, 0) if net.prefixlen < 31 else net.num_addresses
        problems.append(
            f"le masque /{net.prefixlen} donne le réseau {net} : {usable} adresse(s) "
            f"utilisable(s){span}, alors que le réseau VoIP prévu est {expected} "
            f"({expected.num_addresses - 2} adresses). Le serveur croira les autres postes de "
            f"{expected} hors de son réseau et enverra leurs paquets à la passerelle : "
            f"écrivez {interface.ip}/{expected.prefixlen}."
        )
    if gw == interface.ip:
        problems.append(f"la passerelle {gw} est l'adresse du serveur lui-même.")
    elif gw not in net:
        problems.append(f"la passerelle {gw} n'est pas dans le réseau {net} de l'interface : "
                        "elle serait injoignable.")
    if net.prefixlen < 31 and interface.ip in (net.network_address, net.broadcast_address):
        kind = "l'adresse de réseau" if interface.ip == net.network_address else \
            "l'adresse de diffusion"
        problems.append(f"{interface.ip} est {kind} de {net}, pas une adresse d'hôte.")
    return NetworkCheck(str(interface.with_prefixlen), str(gw), str(expected), problems)


def check_stanza(text: str, expected_network: str = "192.168.0.0/24") -> NetworkCheck:
    """:func:`check_network` on an interfaces file's text."""
    cfg = parse_interfaces(text)
    if cfg.gateway is None:
        result = NetworkCheck(str(cfg.address.with_prefixlen), "", expected_network,
                              ["aucune passerelle (gateway) : le serveur ne sortira pas du LAN."])
        return result
    return check_network(str(cfg.address.with_prefixlen), str(cfg.gateway), expected_network)


# --------------------------------------------------------------------------------------
# Wizard values (handout §4)
# --------------------------------------------------------------------------------------
@dataclass
class WizardSettings:
    """What the XiVO installation wizard asks for."""

    hostname: str = "XiVO"
    domain: str = "xivo.local"
    address: str = "192.168.0.1"
    gateway: str = "192.168.0.2"
    dns: str = "8.8.8.8"
    entity: str = "Badlands"
    number_start: int = 100
    number_end: int = 200
    context: str = "default"

    @property
    def entity_name(self) -> str:
        """The entity's internal name (alphanumerics, lowercased), as the wizard derives it."""
        return re.sub(r"[^a-z0-9]", "", self.entity.lower())

    @property
    def fqdn(self) -> str:
        return f"{self.hostname.lower()}.{self.domain}"

    def problems(self) -> list[str]:
        out = []
        if not re.fullmatch(r"[A-Za-z0-9-]{1,63}", self.hostname):
            out.append(f"nom de serveur invalide : {self.hostname!r}")
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", self.domain):
            out.append(f"domaine invalide : {self.domain!r}")
        for label, value in (("adresse", self.address), ("passerelle", self.gateway),
                             ("DNS", self.dns)):
            try:
                ipaddress.ip_address(value)
            except ValueError:
                out.append(f"{label} invalide : {value!r}")
        if not self.number_start < self.number_end:
            out.append("la plage de numéros est vide")
        if not self.entity_name:
            out.append("le nom d'entité doit contenir des lettres ou des chiffres")
        return out

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = [
            ("Nom du serveur", self.hostname),
            ("Domaine", self.domain),
            ("Adresse IP du serveur", self.address),
            ("Passerelle", self.gateway),
            ("Serveur DNS", self.dns),
            ("Entité", f"{self.entity} (nom interne : {self.entity_name})"),
            ("Plage de numéros (contexte default)", f"{self.number_start}–{self.number_end}"),
        ]
        return pd.DataFrame(rows, columns=["paramètre", "valeur"])
