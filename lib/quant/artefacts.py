"""Checks before a saved predictor is loaded: where its artefact may live, its digest, what a ``.pt2`` may hold.

A saved predictor is a folder with ``predictor.json`` and an artefact (ONNX, OpenVINO IR, ``.pt2`` or a state
dict). Loading one must never run code that came with the folder:

- the artefact is named by a plain file name inside the folder (no ``..``, no absolute path, no link out);
- every file's SHA-256, recorded at save time, must match (a damaged or swapped file is refused);
- ``torch.export.load`` unpickles parts of a ``.pt2`` archive (payloads marked ``use_pickle``, custom and
  opaque objects, sample inputs that ``weights_only`` loading refuses), compiles its ``guards_code`` strings
  as Python, loads AOTInductor shared libraries and resolves graph targets to any ``torch.*`` attribute. An
  archive is opened only when none of that can happen: raw tensors, JSON, ``weights_only`` sample inputs,
  no guards, and graph nodes that call ``torch.ops`` operators only.

The digests guard against damage and accidental mix-ups, not against someone who rewrites both the artefact
and ``predictor.json``; the archive checks are what keep a crafted ``.pt2`` from running code.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import torch

PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
"""An artefact file name: letters, digits, dots, dashes, underscores; no path separators."""

_ARCHIVE_FILES = re.compile(
    r"^(archive_format|archive_version|byteorder|\.data/version|\.data/serialization_id"
    r"|models/\w+\.json"
    r"|data/weights/(weight_\d+|\w+_weights_config\.json)"
    r"|data/constants/(tensor_\d+|\w+_constants_config\.json)"
    r"|data/sample_inputs/\w+\.pt)$"
)
"""Entries of a ``.pt2`` archive that ``torch.export.save`` writes for a program of plain tensors."""

SAFE_TARGET_PREFIXES = ("torch.ops.aten.", "torch.ops.prims.", "torch.ops.quantized_decomposed.",
                        "torch.ops.torchao.", "torch.ops.quantized.", "torch.ops.onednn.")
"""Graph node targets a loaded program may call: operators of these namespaces."""

SAFE_PYTHON_TARGETS = frozenset(
    f"_operator.{name}" for name in ("getitem", "add", "sub", "mul", "floordiv", "truediv", "mod", "neg", "pow",
                                     "eq", "ne", "lt", "le", "gt", "ge", "and_", "or_", "not_")
) | frozenset({"math.ceil", "math.floor", "math.sqrt", "torch.sym_max", "torch.sym_min", "torch.sym_not",
               "torch.sym_int", "torch.sym_float", "torch.sym_sqrt", "torch.sym_ite"})
"""Python-level targets ``torch.export`` emits for shape arithmetic."""


class UnsafeArtefactError(ValueError):
    """A saved predictor would need code from the folder to load, or points outside its folder."""


def artefact_path(directory: Path, name: Any, meta_file: Path) -> Path:
    """``directory / name`` after checking that ``name`` is a plain file name that stays inside ``directory``."""
    if not isinstance(name, str) or not PLAIN_NAME.match(name) or name in (".", ".."):
        raise UnsafeArtefactError(
            f"{meta_file}: 'artefact' must be a plain file name inside {directory} (no '/', '..' or absolute "
            f"path), got {name!r}; save the predictor again with Predictor.save"
        )
    path = directory / name
    if path.is_symlink() or path.resolve().parent != directory.resolve():
        raise UnsafeArtefactError(f"{path} is a link or leaves {directory}; copy the real file into the folder")
    return path


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digests(files: Iterable[Path]) -> dict[str, str]:
    """File name → SHA-256 for ``predictor.json``."""
    return {path.name: sha256_file(path) for path in files}


def verify_digests(directory: Path, recorded: Any, meta_file: Path) -> None:
    """Every file named in ``recorded`` exists in ``directory`` and has the recorded SHA-256."""
    if not isinstance(recorded, dict) or not recorded:
        raise UnsafeArtefactError(
            f"{meta_file} records no 'sha256' digests (saved by an older version, or edited); "
            "save the predictor again with Predictor.save"
        )
    for name, expected in recorded.items():
        path = artefact_path(directory, name, meta_file)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; save the predictor again")
        actual = sha256_file(path)
        if actual != expected:
            raise UnsafeArtefactError(
                f"{path}: SHA-256 {actual[:16]}… differs from the {str(expected)[:16]}… recorded in {meta_file}; "
                "the file was damaged or replaced. Save the predictor again from a trusted model."
            )


def check_pt2_archive(path: Path) -> None:
    """Refuse a ``.pt2`` archive from which ``torch.export.load`` would unpickle or compile anything.

    Reads only zip entries and JSON; raises ``UnsafeArtefactError`` naming the file and the entry.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise UnsafeArtefactError(f"{path} is not a readable .pt2 archive ({err}); save the predictor again") from None
    with archive:
        entries = _archive_entries(archive, path)
        for entry, full in entries.items():
            if not _ARCHIVE_FILES.match(entry):
                raise UnsafeArtefactError(
                    f"{path}: entry {full!r} is not one this project writes (pickled objects, compiled "
                    "libraries and extra files are refused); load only predictors saved by lib.quant"
                )
        for entry, full in entries.items():
            if entry.endswith(("_weights_config.json", "_constants_config.json")):
                _check_payload_config(_read_json(archive, full, path), full, path)
            elif entry.startswith("models/"):
                _check_program(_read_json(archive, full, path), full, path)
            elif entry.startswith("data/sample_inputs/"):
                _check_weights_only(archive.read(full), full, path)


def _archive_entries(archive: zipfile.ZipFile, path: Path) -> dict[str, str]:
    """Entry path below the archive's root folder → full entry name."""
    entries = {}
    for full in archive.namelist():
        root, _, entry = full.partition("/")
        if not entry or ".." in entry.split("/"):
            raise UnsafeArtefactError(f"{path}: unexpected archive entry {full!r}")
        entries[entry] = full
    return entries


def _read_json(archive: zipfile.ZipFile, entry: str, path: Path) -> Any:
    try:
        return json.loads(archive.read(entry))
    except (ValueError, UnicodeDecodeError) as err:
        raise UnsafeArtefactError(f"{path}: {entry} is not valid JSON ({err})") from None


def _check_payload_config(config: Any, entry: str, path: Path) -> None:
    payloads = config.get("config") if isinstance(config, dict) else None
    if not isinstance(payloads, dict):
        raise UnsafeArtefactError(f"{path}: {entry} has no 'config' mapping")
    for name, payload in payloads.items():
        if not isinstance(payload, dict) or payload.get("use_pickle") is not False:
            raise UnsafeArtefactError(f"{path}: {entry} stores {name!r} as a pickle; refusing to unpickle it")
        if not re.fullmatch(r"(weight|tensor)_\d+", str(payload.get("path_name", ""))):
            raise UnsafeArtefactError(f"{path}: {entry} stores {name!r} as {payload.get('path_name')!r}, not a tensor")


def _check_program(program: Any, entry: str, path: Path) -> None:
    if not isinstance(program, dict):
        raise UnsafeArtefactError(f"{path}: {entry} is not an exported program")
    if program.get("guards_code"):
        raise UnsafeArtefactError(f"{path}: {entry} carries guard code, which loading would compile as Python")
    for target in _targets(program):
        if not (target.startswith(SAFE_TARGET_PREFIXES) or target in SAFE_PYTHON_TARGETS):
            raise UnsafeArtefactError(f"{path}: {entry} calls {target!r}, outside the operators a model may use")


def _targets(obj: Any) -> Iterator[str]:
    """Every node ``target`` in a serialised program, nested graphs included."""
    if isinstance(obj, dict):
        target = obj.get("target")
        if isinstance(target, str) and "inputs" in obj:
            yield target
        for value in obj.values():
            yield from _targets(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _targets(value)


def _check_weights_only(payload: bytes, entry: str, path: Path) -> None:
    """torch retries a sample-inputs file with full unpickling when ``weights_only`` fails: refuse those."""
    try:
        torch.load(io.BytesIO(payload), weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure here means torch would fall back to pickle
        raise UnsafeArtefactError(
            f"{path}: {entry} cannot be read with weights_only=True ({type(err).__name__}); refusing to unpickle it"
        ) from None
