"""Safe checkpoints: atomic writes of plain data, loads that never unpickle arbitrary code.

``save_checkpoint`` accepts only what ``torch.load(weights_only=True)`` can read back (tensors and
plain Python data) and writes through a temporary file + fsync + rename, so a crash never leaves a
truncated checkpoint. ``load_checkpoint`` always uses ``weights_only=True`` and turns torch's errors
into ones that name the file.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lib.io import atomic_write_bytes

_SCALARS = (str, bytes, int, float, complex, bool, type(None), torch.dtype, torch.device)


class CheckpointError(ValueError):
    """A checkpoint file cannot be used."""


class UnsafeCheckpointError(CheckpointError):
    """The file references Python classes or callables that ``weights_only`` loading refuses."""


class CorruptCheckpointError(CheckpointError):
    """The file is truncated, damaged or not a ``torch.save`` checkpoint."""


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Validate ``state`` and write it atomically to ``path`` with ``torch.save``; return the path.

    Allowed: tensors (and ``nn.Parameter``), dict/OrderedDict/list/tuple/set, str, bytes, int, float,
    complex, bool, None, ``torch.dtype``, ``torch.device``. NumPy values are converted (scalars → Python
    numbers, arrays → tensors) because ``weights_only`` loading refuses them; anything else → ``TypeError``.
    """
    if not isinstance(state, dict):
        raise TypeError(f"checkpoint state must be a dict, got {type(state).__name__}")
    clean = _plain(state, "state")
    buffer = io.BytesIO()
    torch.save(clean, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device | None = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``torch.load(weights_only=True)``; errors name the file.

    Raises ``FileNotFoundError`` (no such file), ``UnsafeCheckpointError`` (it would need arbitrary
    code to unpickle) or ``CorruptCheckpointError`` (truncated, damaged or not a torch checkpoint).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    _check_zip_crcs(path)
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if "global" in str(err).lower():  # torch: "Unsupported global" / "GLOBAL ... is blocked"
            raise UnsafeCheckpointError(
                f"{path} refers to Python code ({_last_line(err)}); refusing to unpickle arbitrary code. "
                "Re-save it from a trusted session with lib.checkpoint.save_checkpoint (tensors and plain data only)."
            ) from None
        raise CorruptCheckpointError(f"{path} is not a readable torch checkpoint ({_last_line(err)})") from None
    except KeyError:  # torch reads a non-zip file as a legacy pickle and trips on its first bytes
        raise CorruptCheckpointError(f"{path} is not a torch checkpoint (text or another format?); "
                                     "pass a file written by torch.save or lib.checkpoint.save_checkpoint") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile) as err:
        raise CorruptCheckpointError(
            f"{path} is truncated or corrupt ({_last_line(err)}); delete it and save it again"
        ) from None
    if not isinstance(obj, dict):
        raise CorruptCheckpointError(f"{path} holds a {type(obj).__name__}, not a checkpoint dict")
    return obj


def _check_zip_crcs(path: Path) -> None:
    """torch reads its zip checkpoints without checking the CRC-32 of each record: a flipped bit would load as a
    silently damaged tensor. Verify every record first (one sequential read; a legacy non-zip file is skipped)."""
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise CorruptCheckpointError(f"{path} is truncated or corrupt ({err}); delete it and save it again") from None
    if damaged is not None:
        raise CorruptCheckpointError(
            f"{path}: record {damaged} fails its CRC-32 check (the file was damaged on disk or in transfer); "
            "restore it from a copy or save it again"
        )


def _plain(obj: Any, where: str) -> Any:
    """Return ``obj`` with NumPy values converted; ``TypeError`` naming ``where`` for anything unsafe."""
    if isinstance(obj, torch.Tensor):
        if type(obj) not in (torch.Tensor, torch.nn.Parameter):
            raise TypeError(f"{where} is a tensor subclass {type(obj).__name__}; save a plain tensor")
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError(f"{where} is an object array; checkpoints hold numeric data only")
        return torch.from_numpy(np.ascontiguousarray(obj).copy())
    if type(obj) in _SCALARS:  # exact types: subclasses (enums, namedtuples) pickle as classes
        return obj
    if type(obj) in (dict, OrderedDict):
        out = {_plain(k, f"key {k!r} of {where}"): _plain(v, f"{where}[{k!r}]") for k, v in obj.items()}
        return OrderedDict(out) if type(obj) is OrderedDict else out
    if type(obj) in (list, tuple, set, torch.Size):
        items = [_plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return torch.Size(items) if type(obj) is torch.Size else type(obj)(items)
    raise TypeError(
        f"{where} is a {type(obj).__module__}.{type(obj).__qualname__}; checkpoints hold only tensors and plain "
        "data (dict, list, tuple, str, int, float, bool, None) so that weights_only loading can read them"
    )


def _last_line(err: BaseException) -> str:
    """The informative line of torch's long multi-line load errors (the one naming the global, if any)."""
    lines = [
        line.strip() for line in str(err).splitlines() if line.strip() and not line.strip().startswith("Check the")
    ]
    named = [line for line in lines if "GLOBAL" in line or "Unsupported" in line]
    if not (named or lines):
        return f"{type(err).__name__}, file ended early" if isinstance(err, EOFError) else type(err).__name__
    line = (named or lines)[-1]
    end = line.find(". ", 60)  # torch appends paragraphs of advice after the first sentence
    return line[: end + 1] if end > 0 else line[:300]
