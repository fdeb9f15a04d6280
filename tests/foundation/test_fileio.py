"""The one way toipkit writes files: whole or not at all."""

import pytest

from toipkit._fileio import atomic_path, atomic_write


def test_atomic_write_replaces_whole_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "f.bin"
    atomic_write(target, b"one")
    atomic_write(target, b"two!")
    assert target.read_bytes() == b"two!"
    assert [x.name for x in target.parent.iterdir()] == ["f.bin"]


def test_text_is_encoded_and_newlines_kept(tmp_path):
    target = tmp_path / "report.csv"
    atomic_write(target, "é;a\r\nb\n")
    assert target.read_bytes() == "é;a\r\nb\n".encode()
    atomic_write(target, "abc", encoding="ascii")
    assert target.read_bytes() == b"abc"


def test_failed_writer_leaves_the_old_file_untouched(tmp_path):
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path and not tmp.exists()
        tmp.write_bytes(b"half")
        raise RuntimeError("writer crashed")
    assert target.read_bytes() == b"old"
    assert [x.name for x in tmp_path.iterdir()] == ["plot.png"]


def test_unencodable_text_fails_before_touching_the_file(tmp_path):
    target = tmp_path / "cert.pem"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(target, "é", encoding="ascii")
    assert target.read_text() == "old"
    assert [x.name for x in tmp_path.iterdir()] == ["cert.pem"]
