"""``/moh`` (music on hold, keyed by UUID) and its files."""

from __future__ import annotations

from typing import Any

from toipkit.xivo.sandbox import schema as S
from toipkit.xivo.sandbox.confd.common import _body, _tx, router
from toipkit.xivo.sandbox.confd.crud import Kind
from toipkit.xivo.sandbox.http import Request, Response, no_content
from toipkit.xivo.sandbox.store import Tx


def render_moh(req: Request, m: dict) -> dict:
    tx = _tx(req)
    out: dict[str, Any] = {"uuid": m["uuid"], **_body(m, S.MOH)}
    out["files"] = [{"name": n} for n in tx.blob_names("moh:" + m["uuid"])]
    out["links"] = [req.link("moh", "moh", m["uuid"])]
    return out


def _delete_moh(tx: Tx, m: dict) -> None:
    tx.delete_blobs("moh:" + m["uuid"])


Kind("moh", S.MOH, default_order="name", render=render_moh,
     on_delete=_delete_moh, unique=("name",)).register()


def _moh_file(tx: Tx, uuid: str, filename: str) -> dict:
    moh = tx.get_by_uuid("moh", uuid)
    if moh is None:
        raise S.not_found("MOH", uuid=uuid)
    if "/" in filename or filename.startswith("."):
        raise S.input_error(f"field 'filename': invalid file name '{filename}'")
    return moh


@router.route("PUT", "/moh/{uuid}/files/{filename}", summary="Upload a hold-music file")
def put_moh_file(req: Request, uuid: str, filename: str) -> Response:
    tx = _tx(req)
    moh = _moh_file(tx, uuid, filename)
    tx.put_blob("moh:" + moh["uuid"], filename, req.body)
    return no_content()


@router.route("GET", "/moh/{uuid}/files/{filename}", summary="Download a hold-music file")
def get_moh_file(req: Request, uuid: str, filename: str) -> Response:
    tx = _tx(req)
    moh = _moh_file(tx, uuid, filename)
    data = tx.get_blob("moh:" + moh["uuid"], filename)
    if data is None:
        raise S.not_found("File", name=filename)
    return Response(200, data, content_type="application/octet-stream")


@router.route("DELETE", "/moh/{uuid}/files/{filename}", summary="Delete a hold-music file")
def delete_moh_file(req: Request, uuid: str, filename: str) -> Response:
    tx = _tx(req)
    moh = _moh_file(tx, uuid, filename)
    if not tx.delete_blobs("moh:" + moh["uuid"], filename):
        raise S.not_found("File", name=filename)
    return no_content()
