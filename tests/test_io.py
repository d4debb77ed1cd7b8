"""Atomic writes: whole files or none, no temporary files left, ordinary permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lib.io import atomic_write_bytes, atomic_write_json, read_json


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = atomic_write_bytes(tmp_path / "sub" / "a.bin", b"first")
    atomic_write_bytes(path, b"second")
    assert path.read_bytes() == b"second" and sorted(p.name for p in path.parent.iterdir()) == ["a.bin"]
    atomic_write_json(tmp_path / "r.json", {"miou": 0.5, "path": tmp_path})
    assert read_json(tmp_path / "r.json") == {"miou": 0.5, "path": str(tmp_path)}


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = atomic_write_json(tmp_path / "r.json", {"ok": True})
    with pytest.raises(TypeError, match="cannot serialise object"):
        atomic_write_json(path, {"bad": object()})
    assert read_json(path) == {"ok": True} and sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_files_get_the_permissions_of_a_plain_write(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "atomic", b"x")
        (tmp_path / "plain").write_bytes(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "atomic").stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777 == 0o644
