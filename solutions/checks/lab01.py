"""Official rules of lab 01 (teacher side: never shipped to students, applied by the grader)."""

from toipkit.checks import Equal, Judge


def _vm(value):
    from toipkit import xivo

    cpus, ram, disk = value
    return xivo.vm_ok(cpus, ram, disk) and cpus >= 2


def _network(stanza):
    from toipkit import xivo

    return xivo.check_stanza(stanza, "192.168.0.0/24").ok


RULES = {
    "01-vm": Judge(_vm),
    "01-reseau": Judge(_network),
    "01-assistant": Equal(("XiVO", "xivo.local", "8.8.8.8", "badlands", 100, [])),
    "01-connexion": Judge(lambda total: type(total) is int and total >= 0),
    "01-entite": Judge(lambda v: v[0] == "badlands" and v[0] in v[1]),
}
