"""The confd 1.1 subset served by the sandbox, one module per resource.

Behaviour follows the real confd's acceptance tests (users, lines, extensions, SIP endpoints and
their associations: XiVO 16.13; groups: 16.15; conferences: Wazo 16.16; call filters: 18.03)
and ``xivo-dao``'s error templates. Layout:

- :mod:`.common` — the router, API profiles, confd's names, link relations, id lookups;
- :mod:`.listing` — list semantics (search, order, paging, exact filters);
- :mod:`.ranges` — contexts and number ranges;
- :mod:`.crud` — :class:`~.crud.Kind`, generic CRUD for a plain collection;
- :mod:`.associations` — association rules and route factories;
- one module per resource (``users``, ``lines``, ``groups``, ...), each registering its routes
  on import.

``docs/sandbox.md`` ("Adding a resource") gives the recipe for a new resource.
"""

from __future__ import annotations

import importlib
import pkgutil

from toipkit.xivo.sandbox.confd.associations import (  # noqa: F401
    _check_extension_free,
    _extensions_of,
    _line_of_sip,
    _line_sip,
    _user_lines,
    _user_main_extension,
    context_type_error,
    line_users,
)
from toipkit.xivo.sandbox.confd.common import (  # noqa: F401
    API_PROFILES,
    NAMES,
    R_CONF_EXT,
    R_GROUP_EXT,
    R_GROUP_MEMBER,
    R_GROUP_SCHED,
    R_INCALL_EXT,
    R_INCALL_SCHED,
    R_LINE_EXT,
    R_LINE_SIP,
    R_USER_LINE,
    R_USER_SCHED,
    _body,
    _fullname,
    get_or_404,
    get_user,
    route_visible,
    router,
    strip_newer_fields,
)
from toipkit.xivo.sandbox.confd.endpoints_sip import (  # noqa: F401
    _check_sip_unique,
    create_sip_doc,
)
from toipkit.xivo.sandbox.confd.extensions import (  # noqa: F401
    _check_extension,
    create_extension_doc,
)
from toipkit.xivo.sandbox.confd.line_endpoints import associate_line_sip  # noqa: F401
from toipkit.xivo.sandbox.confd.line_extensions import associate_line_extension  # noqa: F401
from toipkit.xivo.sandbox.confd.lines import create_line_doc  # noqa: F401
from toipkit.xivo.sandbox.confd.ranges import (  # noqa: F401
    check_typed_range,
    get_context,
    require_context,
)
from toipkit.xivo.sandbox.confd.user_lines import associate_user_line  # noqa: F401
from toipkit.xivo.sandbox.confd.users import (  # noqa: F401
    _check_user_unique,
    create_user_doc,
)

# Every other module of this package is a resource: importing it registers its routes, so a
# new resource module needs no line here.
for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")
