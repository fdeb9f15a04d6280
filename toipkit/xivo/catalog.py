"""The confd resources toipkit knows, in one table read by both the client and the sandbox.

Each row says where a collection lives (``/1.1/<collection>``), how the client exposes it
(``XivoClient.<attr>``, an instance of ``toipkit.xivo.resources.<client_class>``), how confd
names it in its error messages (``confd_name``: ``"Group was not found"``), which sandbox store
kind holds it (``kind``; None when the sandbox does not model it), its id key, the web-UI menu
that does the same job on a XiVO whose API lacks it, and whether confd 16.13 already served it
(the sandbox's ``xivo-16.13`` profile hides the others).

Adding a resource starts with one row here; ``docs/sandbox.md`` ("Adding a resource") gives
the rest of the recipe.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceSpec:
    attr: str
    collection: str
    label: str
    confd_name: str | None = None
    kind: str | None = None
    id_key: str = "id"
    ui_menu: str | None = None
    client_class: str = "Resource"
    in_16_13: bool = True


# Web-UI menus are XiVO 16.x's.
RESOURCES: tuple[ResourceSpec, ...] = (
    ResourceSpec("users", "users", "users", "User", "user", client_class="Users"),
    ResourceSpec("lines", "lines", "lines", "Line", "line", client_class="Lines"),
    ResourceSpec("endpoints_sip", "endpoints/sip", "SIP endpoints", "SIPEndpoint",
                 "endpoint_sip"),
    ResourceSpec("lines_sip", "lines_sip", "lines_sip (legacy)", "LineSIP"),
    ResourceSpec("extensions", "extensions", "extensions", "Extension", "extension"),
    ResourceSpec("voicemails", "voicemails", "voicemails", "Voicemail",
                 ui_menu="Services > IPBX > IPBX settings > Voicemails"),
    ResourceSpec("groups", "groups", "groups", "Group", "group", client_class="Groups",
                 ui_menu="Services > IPBX > IPBX settings > Groups", in_16_13=False),
    ResourceSpec("conferences", "conferences", "conferences", "Conference", "conference",
                 client_class="Conferences", in_16_13=False,
                 ui_menu="Services > IPBX > IPBX settings > Conference rooms"),
    ResourceSpec("call_filters", "callfilters", "call filters", "CallFilter", "callfilter",
                 client_class="CallFilters", in_16_13=False,
                 ui_menu="Services > IPBX > Call management > Call filters"),
    ResourceSpec("moh", "moh", "music on hold", "MOH", "moh", id_key="uuid",
                 client_class="Moh", in_16_13=False,
                 ui_menu="Services > IPBX > IPBX services > On-hold music"),
    ResourceSpec("schedules", "schedules", "schedules", "Schedule", "schedule",
                 in_16_13=False, ui_menu="Services > IPBX > Call management > Schedules"),
    ResourceSpec("incalls", "incalls", "incalls", "Incall", "incall", client_class="Incalls",
                 ui_menu="Services > IPBX > Call management > Incoming calls"),
    ResourceSpec("contexts", "contexts", "contexts", "Context", "context", in_16_13=False,
                 ui_menu="Services > IPBX > IPBX configuration > Contexts"),
    ResourceSpec("entities", "entities", "entities", "Entity", "entity",
                 ui_menu="Configuration > Management > Entities"),
    ResourceSpec("ivr", "ivr", "IVR", "IVR", "ivr", in_16_13=False,
                 ui_menu="dialplan in /etc/asterisk/extensions_extra.d/ "
                         "(no IVR menu in XiVO 16.13)"),
    ResourceSpec("extensions_features", "extensions/features", "feature extensions",
                 in_16_13=False, ui_menu="Services > IPBX > IPBX services > Extensions"),
)

BY_KIND: dict[str, ResourceSpec] = {r.kind: r for r in RESOURCES if r.kind}
BY_COLLECTION: dict[str, ResourceSpec] = {r.collection: r for r in RESOURCES}
