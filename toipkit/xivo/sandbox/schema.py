"""Field definitions and validation with confd's error messages.

confd 16.x validates bodies with marshmallow and reports ``"Input Error - <field>: [<msgs>]"``
(``xivo_confd/helpers/common.py``); other checks use the xivo-dao templates
(``xivo_dao/helpers/errors.py``): ``Resource Error - X already exists (...)``,
``Resource Not Found - X was not found (...)`` and so on. This module reproduces those messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()


class ApiError(Exception):
    """An error answered to the client: HTTP status + a JSON body (confd: a list of strings)."""

    def __init__(self, status: int, messages: list[str] | str | None = None, body: Any = None):
        if isinstance(messages, str):
            messages = [messages]
        self.status = status
        self.messages = list(messages or [])
        self.body = body if body is not None else self.messages
        super().__init__(f"{status}: {'; '.join(self.messages)}")


def is_digits(value: Any) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts '²' or Arabic-Indic digits)."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def is_id(value: Any) -> bool:
    """A database id as text: ASCII digits that fit SQLite's 64-bit integers."""
    return is_digits(value) and len(value) <= 18


def _meta(metadata: dict[str, Any]) -> str:
    if not metadata:
        return ""
    inner = ", ".join(f"{k!r}: {v!r}" for k, v in metadata.items())
    return f" ({inner})"


def input_error(text: str, **metadata: Any) -> ApiError:
    return ApiError(400, f"Input Error - {text}{_meta(metadata)}")


def field_error(name: str, *messages: str) -> ApiError:
    return ApiError(400, f"Input Error - {name}: {list(messages)!r}")


def not_found(resource: str, **metadata: Any) -> ApiError:
    return ApiError(404, f"Resource Not Found - {resource} was not found{_meta(metadata)}")


def resource_exists(resource: str, **metadata: Any) -> ApiError:
    return ApiError(400, f"Resource Error - {resource} already exists{_meta(metadata)}")


def resource_associated(resource: str, associated: str, **metadata: Any) -> ApiError:
    return ApiError(
        400, f"Resource Error - {resource} is associated with a {associated}{_meta(metadata)}"
    )


def resource_not_associated(resource: str, associated: str, **metadata: Any) -> ApiError:
    return ApiError(
        400, f"Resource Error - {resource} is not associated with {associated}{_meta(metadata)}"
    )


def missing_association(resource: str, associated: str, **metadata: Any) -> ApiError:
    return ApiError(
        400, f"Resource Error - {resource} must be associated with a {associated}{_meta(metadata)}"
    )


def outside_range(exten: str, context: str) -> ApiError:
    return ApiError(
        400, f"Input Error - Extension '{exten}' is outside of range for context '{context}'"
    )


def param_not_found(field_name: str, resource: str, **metadata: Any) -> ApiError:
    return ApiError(
        400, f"Input Error - field '{field_name}': {resource} was not found{_meta(metadata)}"
    )


@dataclass
class Field:
    """One writable field of a resource body."""

    name: str
    type: str = "str"  # str | int | bool | list | dict | any
    required: bool = False
    default: Any = None
    nullable: bool = True
    choices: tuple[str, ...] | None = None
    regex: str | None = None
    min_len: int | None = None
    max_len: int | None = None
    min: int | None = None
    max: int | None = None
    step: int | None = None
    create_only: bool = False
    searchable: bool = True

    def check(self, value: Any) -> Any:
        """Return the value, or raise ApiError with a marshmallow-like message."""
        if value is None:
            if not self.nullable:
                raise field_error(self.name, "Field may not be null.")
            return None
        t = self.type
        if t == "str":
            if not isinstance(value, str):
                raise field_error(self.name, "Not a valid string.")
            if self.min_len is not None or self.max_len is not None:
                lo = self.min_len if self.min_len is not None else 0
                hi = self.max_len
                if len(value) < lo or (hi is not None and len(value) > hi):
                    if hi is None:
                        raise field_error(self.name, f"Shorter than minimum length {lo}.")
                    raise field_error(self.name, f"Length must be between {lo} and {hi}.")
            if self.choices is not None and value not in self.choices:
                raise field_error(self.name, f"Must be one of: {', '.join(self.choices)}.")
            if self.regex is not None and not re.fullmatch(self.regex, value):
                raise field_error(self.name, "String does not match expected pattern.")
        elif t == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise field_error(self.name, "Not a valid integer.")
            if (self.min is not None and value < self.min) or (
                self.max is not None and value > self.max
            ):
                if self.max is None:
                    raise field_error(self.name, f"Must be at least {self.min}.")
                raise field_error(self.name, f"Must be between {self.min} and {self.max}.")
            if self.step and value % self.step:
                raise field_error(self.name, f"Must be a multiple of {self.step}.")
        elif t == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise field_error(self.name, "Not a valid number.")
            if self.min is not None and value < self.min:
                raise field_error(self.name, f"Must be at least {self.min}.")
        elif t == "bool":
            if not isinstance(value, bool):
                raise field_error(self.name, "Not a valid boolean.")
        elif t == "list":
            if not isinstance(value, list):
                raise field_error(self.name, "Not a valid list.")
        elif t == "dict":
            if not isinstance(value, dict):
                raise field_error(self.name, "Not a valid mapping type.")
        elif t == "pairs":  # SIP options: a list of [name, value] string pairs
            if not isinstance(value, list):
                raise field_error(self.name, "Not a valid list.")
            for pos, item in enumerate(value):
                if not isinstance(item, list):
                    raise ApiError(400, f"Input Error - {self.name}: "
                                        f"{{{pos}: ['Not a valid list.']}}")
                if len(item) != 2:
                    raise ApiError(400, f"Input Error - {self.name}: "
                                        f"{{{pos}: ['Length must be 2.']}}")
                if not all(isinstance(x, str) for x in item):
                    raise ApiError(400, f"Input Error - {self.name}: "
                                        f"{{{pos}: ['Not a valid string.']}}")
        return value


@dataclass
class Schema:
    """The writable fields of one resource kind."""

    fields: list[Field] = field(default_factory=list)
    # Fields that may be null on POST (confd then picks a value) but not on PUT.
    put_not_null: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}

    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def load_create(self, body: Any) -> dict:
        """Validate a POST body: required fields, types, defaults. Unknown keys are ignored."""
        body = _ensure_object(body)
        missing = [f.name for f in self.fields if f.required and f.name not in body]
        if missing:
            raise ApiError(
                400,
                [f"Input Error - {name}: ['Missing data for required field.']" for name in missing],
            )
        out: dict[str, Any] = {}
        errors: list[str] = []
        for f in self.fields:
            if f.name in body:
                try:
                    out[f.name] = f.check(body[f.name])
                except ApiError as exc:  # marshmallow reports every invalid field at once
                    errors.extend(exc.messages)
            else:
                out[f.name] = _copy_default(f.default)
        if errors:
            raise ApiError(400, errors)
        return out

    def load_update(self, body: Any, current: dict) -> dict:
        """Validate a PUT body as a partial update of ``current``; returns the new document."""
        body = _ensure_object(body)
        out = {k: current.get(k) for k in self.names()}
        # hidden sub-documents (``_funckeys``, ``_noanswer_destination``...) survive a PUT
        out.update({k: v for k, v in current.items() if k.startswith("_")})
        errors: list[str] = []
        for f in self.fields:
            if f.name not in body or f.create_only:
                continue
            try:
                value = f.check(body[f.name])
                if value is None and (f.required or f.name in self.put_not_null):
                    raise field_error(f.name, "Field may not be null.")
            except ApiError as exc:
                errors.extend(exc.messages)
                continue
            out[f.name] = value
        if errors:
            raise ApiError(400, errors)
        return out


def _ensure_object(body: Any) -> dict:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ApiError(400, "Input Error - _schema: ['Invalid input type.']")
    return body


def _copy_default(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


# --------------------------------------------------------------------------------------------
# Resource schemas (field lists of confd's API, as documented in docs/sandbox.md)

LANGUAGES = ("de_DE", "en_US", "es_ES", "fr_FR", "fr_CA", "it_IT", "nl_NL")
CALLER_ID_RE = r'"(.*)"( <\+?\d+>)?'
DIGITS_STAR_HASH = r"\+?[0-9*#]+"
CALLER_ID_MODES = ("prepend", "overwrite", "append")

USER = Schema([
    Field("firstname", required=True, nullable=False, min_len=1, max_len=128),
    Field("lastname", default="", max_len=128),
    Field("email", max_len=254),
    Field("timezone", max_len=128),
    Field("language", choices=LANGUAGES),
    Field("description"),
    Field("caller_id", regex=CALLER_ID_RE, max_len=160),
    Field("outgoing_caller_id", default="default", max_len=80),
    Field("mobile_phone_number", regex=DIGITS_STAR_HASH, max_len=80),
    Field("username", regex=r"[a-zA-Z0-9\-._~!$&'()*+,;=%@]{2,254}"),
    Field("password", regex=r"[a-zA-Z0-9\-._~!$&'()*+,;=%]{4,64}", searchable=False),
    Field("music_on_hold", max_len=128),
    Field("preprocess_subroutine", max_len=39),
    Field("userfield", max_len=128),
    Field("call_transfer_enabled", "bool", default=False, nullable=False),
    Field("dtmf_hangup_enabled", "bool", default=False, nullable=False),
    Field("call_record_enabled", "bool", default=False, nullable=False),
    Field("online_call_record_enabled", "bool", default=False, nullable=False),
    Field("supervision_enabled", "bool", default=True, nullable=False),
    Field("ring_seconds", "int", default=30, nullable=False, min=0, max=60, step=5),
    Field("simultaneous_calls", "int", default=5, nullable=False, min=1, max=20),
    Field("call_permission_password", regex=r"[0-9#*]{1,16}", searchable=False),
    Field("enabled", "bool", default=True, nullable=False),
], put_not_null=("caller_id",))

LINE = Schema([
    Field("context", required=True, nullable=False, min_len=1, max_len=39),
    Field("provisioning_code", regex=r"\d{6}"),
    Field("position", "int", default=1, nullable=False, min=1),
    Field("caller_id_name", max_len=160),
    Field("caller_id_num", regex=r"\d+", max_len=80),
    Field("registrar", default="default", max_len=128),
], put_not_null=("provisioning_code", "registrar"))

ENDPOINT_SIP = Schema([
    Field("username", regex=r"[a-zA-Z0-9_-]{1,40}"),
    Field("secret", regex=r"[ -~]{1,80}", searchable=False),
    Field("type", default="friend", nullable=False, choices=("friend", "peer", "user")),
    Field("host", default="dynamic", nullable=False, min_len=1, max_len=255),
    Field("options", "pairs", default=[], nullable=False, searchable=False),
])

LINE_SIP = Schema([
    Field("context", required=True, nullable=False, min_len=1, max_len=39),
    Field("username", regex=r"[a-zA-Z0-9]{1,40}"),
    Field("secret", regex=r"[a-zA-Z0-9]{1,80}", searchable=False),
    Field("callerid"),
    Field("device_slot", "int", default=1, nullable=False, min=1),
])

EXTEN_RE = r"([0-9*#]{1,40}|_[-0-9A-Za-z\[\].!*#+]{1,39})"

EXTENSION = Schema([
    Field("exten", required=True, nullable=False, regex=EXTEN_RE),
    Field("context", required=True, nullable=False, min_len=1, max_len=39),
    Field("commented", "bool", default=False, nullable=False),
])

RING_STRATEGIES = (
    "all", "random", "least_recent", "linear", "fewest_calls", "memorized_round_robin",
    "weight_random",
)

GROUP = Schema([
    Field("name", required=True, nullable=False, min_len=1, max_len=128,
          regex=r"[-_.a-zA-Z0-9]+"),
    Field("ring_strategy", default="all", nullable=False, choices=RING_STRATEGIES),
    Field("timeout", "int", min=0),
    Field("user_timeout", "int", default=15, min=0),
    Field("retry_delay", "int", default=5, min=0),
    Field("ring_in_use", "bool", default=True, nullable=False),
    Field("music_on_hold", max_len=128),
    Field("preprocess_subroutine", max_len=39),
    Field("caller_id_mode", choices=CALLER_ID_MODES),
    Field("caller_id_name", max_len=80),
    Field("enabled", "bool", default=True, nullable=False),
])

CONFERENCE = Schema([
    Field("name", max_len=128),
    Field("pin", regex=r"[0-9]{1,80}", searchable=False),
    Field("admin_pin", regex=r"[0-9]{1,80}", searchable=False),
    Field("max_users", "int", default=50, nullable=False, min=0),
    Field("record", "bool", default=False, nullable=False),
    Field("music_on_hold", max_len=128),
    Field("preprocess_subroutine", max_len=39),
    Field("quiet_join_leave", "bool", default=False, nullable=False),
    Field("announce_join_leave", "bool", default=False, nullable=False),
    Field("announce_user_count", "bool", default=False, nullable=False),
    Field("announce_only_user", "bool", default=True, nullable=False),
])

CALLFILTER_STRATEGIES = (
    "all-recipients-then-linear-surrogates",
    "all-recipients-then-all-surrogates",
    "linear-surrogates-then-all-recipients",
    "all-surrogates-then-all-recipients",
    "all",
)

CALLFILTER = Schema([
    Field("name", required=True, nullable=False, min_len=1, max_len=128),
    Field("source", required=True, nullable=False, choices=("internal", "external", "all")),
    Field("strategy", required=True, nullable=False, choices=CALLFILTER_STRATEGIES),
    Field("surrogates_timeout", "int", min=0),
    Field("caller_id_mode", choices=CALLER_ID_MODES),
    Field("caller_id_name", max_len=80),
    Field("description"),
    Field("enabled", "bool", default=True, nullable=False),
])

MOH = Schema([
    Field("name", required=True, nullable=False, regex=r"[-_.a-zA-Z0-9]{1,20}", create_only=True),
    Field("label", max_len=128),
    Field("mode", default="files", nullable=False, choices=("files", "mp3", "custom")),
    Field("application", max_len=256),
    Field("sort", choices=("alphabetical", "random", "random_start")),
])

SCHEDULE = Schema([
    Field("name", max_len=128),
    Field("timezone", max_len=128),
    Field("enabled", "bool", default=True, nullable=False),
    Field("closed_destination", "dict", required=True, nullable=False, searchable=False),
    Field("open_periods", "list", default=[], nullable=False, searchable=False),
    Field("exceptional_periods", "list", default=[], nullable=False, searchable=False),
])

INCALL = Schema([
    Field("destination", "dict", required=True, nullable=False, searchable=False),
    Field("preprocess_subroutine", max_len=39),
    Field("description"),
    Field("caller_id_mode", choices=CALLER_ID_MODES),
    Field("caller_id_name", max_len=80),
])

IVR = Schema([
    Field("name", required=True, nullable=False, min_len=1, max_len=128),
    Field("menu_sound", required=True, nullable=False, min_len=1, max_len=255),
    Field("description"),
    Field("greeting_sound", max_len=255),
    Field("invalid_sound", max_len=255),
    Field("abort_sound", max_len=255),
    Field("timeout", "int", default=5, nullable=False, min=0),
    Field("max_tries", "int", default=3, nullable=False, min=1),
    Field("invalid_destination", "dict", searchable=False),
    Field("timeout_destination", "dict", searchable=False),
    Field("abort_destination", "dict", searchable=False),
    Field("choices", "list", default=[], nullable=False, searchable=False),
])

CONTEXT_TYPES = ("internal", "incall", "outcall", "services", "others")

CONTEXT = Schema([
    Field("name", required=True, nullable=False, regex=r"[a-zA-Z0-9_-]{1,39}", create_only=True),
    Field("label", max_len=128),
    Field("type", default="internal", nullable=False, choices=CONTEXT_TYPES),
    Field("user_ranges", "list", default=[], nullable=False, searchable=False),
    Field("group_ranges", "list", default=[], nullable=False, searchable=False),
    Field("queue_ranges", "list", default=[], nullable=False, searchable=False),
    Field("conference_room_ranges", "list", default=[], nullable=False, searchable=False),
    Field("incall_ranges", "list", default=[], nullable=False, searchable=False),
    Field("description"),
    Field("enabled", "bool", default=True, nullable=False),
])

RANGE_KEYS = ("user_ranges", "group_ranges", "queue_ranges", "conference_room_ranges",
              "incall_ranges")

DESTINATION_TYPES = (
    "user", "group", "voicemail", "conference", "meetme", "custom", "extension", "hangup", "none",
    "outcall", "sound", "application", "ivr", "queue", "switchboard",
)


def check_ranges(body: dict) -> None:
    """Validate the ``*_ranges`` lists of a context body (in place: start/end as strings)."""
    for key in RANGE_KEYS:
        ranges = body.get(key) or []
        for item in ranges:
            if not isinstance(item, dict) or "start" not in item:
                raise field_error(key, "Invalid range: expected {start, end}.")
            start = str(item["start"])
            end = str(item.get("end") if item.get("end") is not None else start)
            if not (is_digits(start) and is_digits(end)):
                raise field_error(key, "Range bounds must be digits.")
            if len(start) != len(end) or int(start) > int(end):
                raise field_error(key, f"Invalid range {start}-{end}.")
            item["start"], item["end"] = start, end
            if key == "incall_ranges":
                item.setdefault("did_length", 4)


# Fields of each destination type (Wazo's destination schemas): name -> (type, required)
_COMMAND_RE = r"(?!(try)?system\()[a-zA-Z]{3,}\((.*)\)"
_CONTEXT_RE = r"[a-zA-Z0-9_-]{1,39}"
DESTINATION_FIELDS: dict[str, dict[str, Field]] = {
    "user": {"user_id": Field("user_id", "int", required=True, nullable=False),
             "ring_time": Field("ring_time", "number", min=0),
             "moh_uuid": Field("moh_uuid")},
    "group": {"group_id": Field("group_id", "int", required=True, nullable=False),
              "ring_time": Field("ring_time", "number", min=0)},
    "queue": {"queue_id": Field("queue_id", "int", required=True, nullable=False),
              "ring_time": Field("ring_time", "number", min=0)},
    "voicemail": {"voicemail_id": Field("voicemail_id", "int", required=True, nullable=False),
                  "skip_instructions": Field("skip_instructions", "bool", nullable=False),
                  "greeting": Field("greeting", choices=("busy", "unavailable"))},
    "conference": {"conference_id": Field("conference_id", "int", required=True,
                                          nullable=False)},
    "meetme": {"conference_id": Field("conference_id", "int", required=True, nullable=False)},
    "ivr": {"ivr_id": Field("ivr_id", "int", required=True, nullable=False)},
    "outcall": {"outcall_id": Field("outcall_id", "int", required=True, nullable=False),
                "exten": Field("exten", required=True, nullable=False, regex=r"\d{1,255}")},
    "custom": {"command": Field("command", required=True, nullable=False, regex=_COMMAND_RE,
                                max_len=255)},
    "extension": {"exten": Field("exten", required=True, nullable=False, regex=_CONTEXT_RE),
                  "context": Field("context", required=True, nullable=False,
                                   regex=_CONTEXT_RE)},
    "hangup": {"cause": Field("cause", nullable=False, choices=("busy", "congestion", "normal")),
               "timeout": Field("timeout", "number", min=0)},
    "sound": {"filename": Field("filename", required=True, nullable=False, max_len=255),
              "skip": Field("skip", "bool", nullable=False),
              "no_answer": Field("no_answer", "bool", nullable=False)},
    "application": {"application": Field(
        "application", required=True, nullable=False,
        choices=("callback_disa", "directory", "disa", "fax_to_mail", "voicemail")),
        "context": Field("context", regex=_CONTEXT_RE),
        "pin": Field("pin", regex=r"\d{0,40}"),
        "email": Field("email", max_len=80)},
    "switchboard": {"switchboard_uuid": Field("switchboard_uuid", required=True,
                                              nullable=False),
                    "ring_time": Field("ring_time", "number", min=0)},
    "none": {},
}


def check_destination(name: str, dest: Any) -> dict:
    """A destination: its ``type`` and that type's own fields (marshmallow-style errors)."""
    if not isinstance(dest, dict):
        raise field_error(name, "Not a valid mapping type.")
    kind = dest.get("type")
    if kind not in DESTINATION_TYPES:
        raise ApiError(400, f"Input Error - {name}: "
                            f"{{'type': ['Must be one of: {', '.join(DESTINATION_TYPES)}.']}}")
    problems: dict[str, list[str]] = {}
    for fname, spec in DESTINATION_FIELDS.get(kind, {}).items():
        if fname not in dest:
            if spec.required:
                problems[fname] = ["Missing data for required field."]
            continue
        try:
            spec.check(dest[fname])
        except ApiError as exc:
            text = exc.messages[0]
            problems[fname] = [text[text.index("['") + 2:text.rindex("']")]] \
                if "['" in text else [text]
    if problems:
        raise ApiError(400, f"Input Error - {name}: {problems!r}")
    return dest


_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def check_periods(name: str, periods: list, with_destination: bool = False) -> list:
    out = []
    for period in periods:
        if not isinstance(period, dict):
            raise field_error(name, "Not a valid mapping type.")
        p = {
            "hours_start": period.get("hours_start"),
            "hours_end": period.get("hours_end"),
            "week_days": period.get("week_days", list(range(1, 8))),
            "month_days": period.get("month_days", list(range(1, 32))),
            "months": period.get("months", list(range(1, 13))),
        }
        for key in ("hours_start", "hours_end"):
            if p[key] is not None and not (isinstance(p[key], str) and _HHMM.fullmatch(p[key])):
                raise field_error(name, f"{key}: expected HH:MM.")
        for key, lo, hi in (("week_days", 1, 7), ("month_days", 1, 31), ("months", 1, 12)):
            values = p[key]
            if not isinstance(values, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi for v in values
            ):
                raise field_error(name, f"{key}: expected integers between {lo} and {hi}.")
        if with_destination:
            p["destination"] = check_destination(name, period.get("destination"))
        out.append(p)
    return out
