"""Lab helpers: re-runnable user + SIP line creation, softphone settings.

:func:`create_user_with_line` follows the creation order that XiVO 16.x validators accept
(line → SIP endpoint → associate → extension → associate → user → associate) and looks up
what already exists first, so running a notebook twice never duplicates anything: it only
creates or associates what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from toipkit.errors import ToipkitError, XivoAPIError
from toipkit.xivo.resources import MASK, Record

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from toipkit.xivo.client import XivoClient


@dataclass
class LabUser:
    """A user with its line, SIP endpoint and extension (ids as returned by confd)."""

    firstname: str
    lastname: str
    exten: str
    context: str
    user: Record
    line: Record
    endpoint_sip: Record
    extension: Record
    created: tuple[str, ...] = ()

    @property
    def sip_username(self) -> str:
        return str(self.endpoint_sip.get("username") or self.line.get("name") or "")

    def row(self) -> dict[str, Any]:
        """A display row (no ids, no secret)."""
        return {
            "prénom": self.firstname,
            "nom": self.lastname,
            "numéro": self.exten,
            "contexte": self.context,
            "langue": self.user.get("language"),
            "fuseau": self.user.get("timezone"),
            "protocole": "sip",
        }

    def __repr__(self) -> str:
        return f"<LabUser {self.firstname} {self.lastname} {self.exten}@{self.context}>"


def users_frame(lab_users: list[LabUser]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([u.row() for u in lab_users])


def _find_user(client: XivoClient, firstname: str, lastname: str) -> Record | None:
    for item in client.users.iter(search=f"{firstname} {lastname}".strip() or None):
        if (item.get("firstname") or "") == firstname and (item.get("lastname") or "") == lastname:
            return item
    # Some servers match `search` on single columns only: fall back to an exact filter.
    for item in client.users.iter(firstname=firstname):
        if (item.get("lastname") or "") == lastname:
            return item
    return None


def _find_extension(client: XivoClient, exten: str, context: str) -> Record | None:
    return client.extensions.find(exten=exten, context=context)


def _line_of_extension(client: XivoClient, ext: Record) -> Any:
    lines = ext.get("lines")
    if lines:
        return lines[0].get("id")
    if "lines" in ext:  # the field exists and is empty: no line
        return None
    for line in client.lines.iter():  # older servers: scan (a lab has a handful of lines)
        if any(str(a.get("extension_id")) == str(ext["id"])
               for a in client.lines.extensions(line["id"])):
            return line["id"]
    return None


def create_user_with_line(
    client: XivoClient,
    firstname: str,
    lastname: str,
    exten: str | int,
    context: str = "default",
    *,
    language: str | None = "fr_FR",
    timezone: str | None = "Europe/Paris",
    **user_fields: Any,
) -> LabUser:
    """Create (or complete) a user with a SIP line on ``exten@context``; idempotent.

    An existing user with the same first and last name is reused (its language/timezone are
    updated if they differ); an existing extension is reused if it is free or already on this
    user's line. An extension used by *another* line raises a clear error.
    """
    exten = str(exten)
    created: list[str] = []
    user = _find_user(client, firstname, lastname)
    ext = _find_extension(client, exten, context)

    line_id = None
    if user is not None:
        assoc = client.users.lines(user["id"])
        if len(assoc):
            line_id = assoc[0].get("line_id")
    if ext is not None:
        ext_line = _line_of_extension(client, ext)
        if ext_line is not None and line_id is not None and str(ext_line) != str(line_id):
            raise ToipkitError(
                f"extension {exten}@{context} already belongs to another line "
                f"than {firstname} {lastname}'s: free it first"
            )
        if line_id is None and ext_line is not None:
            owners = client.lines.users(ext_line)
            if len(owners):
                raise ToipkitError(
                    f"extension {exten}@{context} is already used by another user: "
                    "choose another number or delete that user"
                )
            line_id = ext_line

    # 1. line
    if line_id is None:
        line = client.lines.create({"context": context})
        line_id = line["id"]
        created.append("line")
    # 2-3. SIP endpoint, associated with the line
    assoc_sip = client.lines.endpoint_sip(line_id)
    if assoc_sip is None:
        sip = client.endpoints_sip.create({})
        client.lines.add_endpoint_sip(line_id, sip["id"])
        created.append("endpoint_sip")
        sip_id = sip["id"]
    else:
        sip_id = assoc_sip.get("endpoint_id")
    # 4-5. extension, associated with the line
    if ext is None:
        ext = client.extensions.create({"exten": exten, "context": context})
        created.append("extension")
    if not any(str(a.get("extension_id")) == str(ext["id"])
               for a in client.lines.extensions(line_id)):
        client.lines.add_extension(line_id, ext["id"])
    # 6-7. user, associated with the line
    wanted = {k: v for k, v in {"language": language, "timezone": timezone,
                                **user_fields}.items() if v is not None}
    if user is None:
        user = client.users.create({"firstname": firstname, "lastname": lastname, **wanted})
        created.append("user")
    else:
        changes = {k: v for k, v in wanted.items() if user.get(k) != v}
        if changes:
            client.users.update(user["id"], changes)
    if not any(str(a.get("line_id")) == str(line_id) for a in client.users.lines(user["id"])):
        client.users.add_line(user["id"], line_id)
    return LabUser(
        firstname=firstname, lastname=lastname, exten=exten, context=context,
        user=client.users.get(user["id"]), line=client.lines.get(line_id),
        endpoint_sip=client.endpoints_sip.get(sip_id), extension=client.extensions.get(ext["id"]),
        created=tuple(created),
    )


#: An alias that reads better in notebooks re-run many times.
ensure_user_with_line = create_user_with_line


def delete_user_with_line(client: XivoClient, firstname: str, lastname: str) -> bool:
    """Remove a user and its line, SIP endpoint and extension (dissociating in the right order).

    Returns False when there was no such user.
    """
    user = _find_user(client, firstname, lastname)
    if user is None:
        return False
    for assoc in client.users.lines(user["id"]):
        line_id = assoc.get("line_id")
        client.users.remove_line(user["id"], line_id)
        for le in client.lines.extensions(line_id):
            client.lines.remove_extension(line_id, le["extension_id"])
            client.extensions.delete(le["extension_id"])
        sip = client.lines.endpoint_sip(line_id)
        client.lines.delete(line_id)
        if sip is not None:
            try:
                client.endpoints_sip.delete(sip["endpoint_id"])
            except XivoAPIError as exc:  # 16.13 deletes the endpoint with the line
                if exc.status != 404:
                    raise
    client.users.delete(user["id"])
    return True


# ------------------------------------------------------------------------------------------
@dataclass
class SoftphoneSettings:
    """What to type into Zoiper/Linphone for one line. The password is never printed."""

    display_name: str
    exten: str
    username: str
    server: str
    port: int = 5060
    transport: str = "UDP"
    _password: str = ""

    def __repr__(self) -> str:
        return (f"SoftphoneSettings(display_name={self.display_name!r}, exten={self.exten!r}, "
                f"username={self.username!r}, password={MASK!r}, server={self.server!r}, "
                f"port={self.port}, transport={self.transport!r})")

    @property
    def password(self) -> str:
        """The SIP secret (to copy into the softphone; don't print it in a notebook)."""
        return self._password

    def to_frame(self, *, show_username: bool = True) -> pd.DataFrame:
        """One row per field, with the Zoiper and Linphone labels; password masked."""
        import pandas as pd

        user = self.username if show_username else MASK
        rows = [
            ("Nom affiché", "Display name", "Nom d'affichage", self.display_name),
            ("Identifiant SIP", "Username", "Nom d'utilisateur", user),
            ("Mot de passe", "Password", "Mot de passe", MASK if self._password else ""),
            ("Serveur", "Domain", "Domaine", f"{self.server}" if self.port == 5060
             else f"{self.server}:{self.port}"),
            ("Transport", "Transport", "Transport", self.transport),
        ]
        return pd.DataFrame(rows, columns=["champ", "Zoiper", "Linphone", "valeur"])

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def softphone_settings(client: XivoClient, lab_user: LabUser | Record | Any,
                       server: str | None = None) -> SoftphoneSettings:
    """The softphone fields of a user's main line, read from the server (SIP endpoint)."""
    if isinstance(lab_user, LabUser):
        user = client.users.get(lab_user.user["id"])
    elif isinstance(lab_user, dict):
        user = client.users.get(lab_user.get("id") or lab_user.get("uuid"))
    else:
        user = client.users.get(lab_user)
    assoc = client.users.lines(user["id"])
    if not len(assoc):
        raise ToipkitError(f"{user.get('firstname')} {user.get('lastname')} has no line")
    line_id = assoc[0]["line_id"]
    sip_assoc = client.lines.endpoint_sip(line_id)
    if sip_assoc is None:
        raise ToipkitError(f"line {line_id} has no SIP endpoint")
    sip = client.endpoints_sip.get(sip_assoc["endpoint_id"])
    exts = client.lines.extensions(line_id)
    exten = client.extensions.get(exts[0]["extension_id"])["exten"] if len(exts) else ""
    host = server or httpx.URL(client.confd_url).host
    return SoftphoneSettings(
        display_name=f"{user.get('firstname', '')} {user.get('lastname') or ''}".strip(),
        exten=str(exten), username=str(sip.get("username") or ""), server=host,
        _password=str(sip.get("secret") or ""),
    )
