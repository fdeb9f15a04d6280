"""XiVO administration from Python: a confd/auth REST client, CSV helpers, a SIP REGISTER check.

Public API::

    from toipkit import xivo
    client = xivo.connect()                      # None = the local sandbox (started on demand)
    client = xivo.connect("https://192.168.0.1", username="toipkit", password=...)
    client.users.list(search="geralt").to_frame()
    xivo.create_user_with_line(client, "Geralt", "Deriv", "101")
    xivo.register_check("192.168.0.1", "abcd1234", password)

Everything is imported lazily so that ``import toipkit.xivo.sandbox`` stays light.
"""

from __future__ import annotations

from toipkit._lazy import lazy_exports

_EXPORTS = {
    "connect": "toipkit.xivo.client",
    "XivoClient": "toipkit.xivo.client",
    "Page": "toipkit.xivo.resources",
    "Record": "toipkit.xivo.resources",
    "Resource": "toipkit.xivo.resources",
    "XivoUnsupportedError": "toipkit.xivo.resources",
    "ImportResult": "toipkit.xivo.csvio",
    "create_user_with_line": "toipkit.xivo.lab",
    "ensure_user_with_line": "toipkit.xivo.lab",
    "LabUser": "toipkit.xivo.lab",
    "softphone_settings": "toipkit.xivo.lab",
    "softphone_frame": "toipkit.xivo.lab",
    "SoftphoneSettings": "toipkit.xivo.lab",
    "register_check": "toipkit.xivo.sip_register",
    "RegistrationResult": "toipkit.xivo.sip_register",
    "registration_from_capture": "toipkit.xivo.sip_register",
    "delete_user_with_line": "toipkit.xivo.lab",
    "users_frame": "toipkit.xivo.lab",
    "XivoConnectionError": "toipkit.xivo.client",
    "fetch_certificate": "toipkit.xivo.client",
    "CSVImportError": "toipkit.errors",
    "XivoAPIError": "toipkit.errors",
    "import_users": "toipkit.xivo.csvio",
    "drop_internal_columns": "toipkit.xivo.csvio",
    "missing_rows": "toipkit.xivo.csvio",
    "read_csv_text": "toipkit.xivo.csvio",
    "to_csv_text": "toipkit.xivo.csvio",
    "import_report": "toipkit.xivo.csvio",
    "ImportOutcome": "toipkit.xivo.csvio",
    "users_with_numbers": "toipkit.xivo.lab",
    "find_user_by_exten": "toipkit.xivo.lab",
    "ensure_moh": "toipkit.xivo.lab",
    "ensure_schedule": "toipkit.xivo.lab",
    "ensure_group": "toipkit.xivo.lab",
    "ensure_conference": "toipkit.xivo.lab",
    "ensure_call_filter": "toipkit.xivo.lab",
    "bsfilter_codes": "toipkit.xivo.lab",
    "groups_frame": "toipkit.xivo.lab",
    "numbering_plan": "toipkit.xivo.lab",
    "connect_lab": "toipkit.xivo.lab",
    "connection_summary": "toipkit.xivo.lab",
    "context_ranges": "toipkit.xivo.lab",
    "registration_demo": "toipkit.xivo.lab",
    "kamailio_registrar": "toipkit.xivo.registrar",
    "interfaces_stanza": "toipkit.xivo.network",
    "parse_interfaces": "toipkit.xivo.network",
    "check_network": "toipkit.xivo.network",
    "check_stanza": "toipkit.xivo.network",
    "vm_checklist": "toipkit.xivo.network",
    "vm_ok": "toipkit.xivo.network",
    "WizardSettings": "toipkit.xivo.network",
}

_SUBMODULES = {"sandbox", "client", "resources", "csvio", "lab", "network", "sip_register",
               "registrar", "cli"}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS, _SUBMODULES)
