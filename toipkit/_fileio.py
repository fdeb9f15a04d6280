"""Writing files so that a reader never sees a half-written one.

Every file toipkit produces (notebooks, sounds, reports, plots, certificates) goes through a
temporary file in the destination folder, then ``os.replace``: the destination holds either the
old content or the new one, even if the process is killed in between.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path next to ``path``; moved onto ``path`` when the block succeeds.

    For writers that want a file name rather than bytes (``savefig``, ``os.link``, external
    commands). The temporary name keeps ``path``'s suffix, so tools that pick a format from
    the extension choose the same one. On error the temporary file is removed and ``path`` is
    left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}",
                               dir=target.parent)
    os.close(fd)
    os.unlink(tmp)  # the writer creates it (os.link refuses an existing name)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write ``data`` (text is encoded with ``encoding``, newlines kept as they are) to ``path``
    through a temporary file in the same folder and ``os.replace``. Returns ``path``."""
    target = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else data
    with atomic_path(target) as tmp, open(tmp, "xb") as handle:
        handle.write(payload)
    return target
