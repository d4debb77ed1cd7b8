"""Checkpoints: roundtrip, atomic writes, refusal of pickled code, clear errors for bad files."""

from __future__ import annotations

import io
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from lib.checkpoint import CorruptCheckpointError, UnsafeCheckpointError, load_checkpoint, save_checkpoint


class _Exploit:
    """Unpickling this would run a shell command that creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_roundtrip(tmp_path) -> None:
    state = {
        "model": OrderedDict(w=torch.randn(3, 2), b=torch.zeros(2)),
        "epoch": 7,
        "best_miou": np.float64(0.5),  # numpy scalars become Python numbers
        "history": [{"loss": 1.5}, {"loss": 0.5}],
        "config": {"name": "unet_resnet18", "size": (64, 128), "lr": None, "amp": False},
        "confusion": np.eye(2, dtype=np.int64),  # numpy arrays become tensors
    }
    path = save_checkpoint(tmp_path / "sub" / "ckpt.pt", state)
    loaded = load_checkpoint(path)
    torch.testing.assert_close(loaded["model"]["w"], state["model"]["w"])
    assert loaded["epoch"] == 7 and loaded["best_miou"] == 0.5 and type(loaded["best_miou"]) is float
    assert loaded["history"] == state["history"] and loaded["config"] == state["config"]
    assert torch.equal(loaded["confusion"], torch.eye(2, dtype=torch.int64))


def test_atomic_write_leaves_no_temp_files(tmp_path) -> None:
    save_checkpoint(tmp_path / "a.pt", {"x": torch.ones(2)})
    save_checkpoint(tmp_path / "a.pt", {"x": torch.zeros(2)})  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt"]
    assert torch.equal(load_checkpoint(tmp_path / "a.pt")["x"], torch.zeros(2))


def test_save_rejects_objects_and_keeps_old_file(tmp_path) -> None:
    path = save_checkpoint(tmp_path / "a.pt", {"x": torch.ones(2)})
    with pytest.raises(TypeError, match=r"state\['opt'\]\[0\].*_Exploit"):
        save_checkpoint(path, {"opt": [_Exploit(tmp_path / "m")]})
    assert torch.equal(load_checkpoint(path)["x"], torch.ones(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt"]


def test_refuses_pickled_code_without_running_it(tmp_path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"model": {"w": torch.ones(1)}, "payload": _Exploit(marker)}, path)  # bypasses our validation
    with pytest.raises(UnsafeCheckpointError, match=r"evil\.pt.*refusing to unpickle arbitrary code"):
        load_checkpoint(path)
    assert not marker.exists()
    assert isinstance(UnsafeCheckpointError("x"), ValueError)


def test_truncated_file(tmp_path) -> None:
    buffer = io.BytesIO()
    torch.save({"w": torch.randn(1000)}, buffer)
    path = tmp_path / "cut.pt"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(CorruptCheckpointError, match=r"cut\.pt.*truncated or corrupt"):
        load_checkpoint(path)


@pytest.mark.parametrize("payload", [b"", b"not a checkpoint at all"])
def test_garbage_file(tmp_path, payload: bytes) -> None:
    path = tmp_path / "junk.pt"
    path.write_bytes(payload)
    with pytest.raises(CorruptCheckpointError, match=r"junk\.pt"):
        load_checkpoint(path)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.pt"):
        load_checkpoint(tmp_path / "missing.pt")


def test_bit_flip_inside_a_tensor_is_detected(tmp_path) -> None:
    path = tmp_path / "ck.pt"
    save_checkpoint(path, {"w": torch.arange(4096, dtype=torch.float32)})
    data = bytearray(path.read_bytes())
    offset = bytes(data).find(torch.arange(4096, dtype=torch.float32).numpy().tobytes()[4000:4016])
    assert offset > 0
    data[offset] ^= 0x01  # one bit of one weight: torch alone would load it silently
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptCheckpointError, match="CRC"):
        load_checkpoint(path)


def test_text_file_is_not_a_checkpoint(tmp_path) -> None:
    path = tmp_path / "notes.pt"
    path.write_text("hello world\n")
    with pytest.raises(CorruptCheckpointError, match="not a torch checkpoint"):
        load_checkpoint(path)
