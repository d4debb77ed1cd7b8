"""A saved predictor handed in by someone else: nothing in its folder may run code when it is loaded."""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn

from lib.quant import UnsafeArtefactError, load_predictor
from lib.quant.artefacts import check_pt2_archive, file_digests


class _Payload:
    """Unpickling this creates a folder: proof that code from the file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def _tiny_program(path: Path) -> Path:
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()).eval()
    program = torch.export.export(model, (torch.randn(2, 3, 32, 32),), strict=False)
    torch.export.save(program, path)
    return path


def _rewrite(archive: Path, replace: dict[str, bytes]) -> None:
    """Rewrite entries of a zip (matched by suffix of the name below the archive's root folder)."""
    with zipfile.ZipFile(archive) as source:
        items = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(archive, "w") as target:
        for name, data in items:
            inner = name.partition("/")[2]
            target.writestr(name, replace.pop(inner, data))
        root = items[0][0].partition("/")[0]
        for inner, data in replace.items():  # new entries
            target.writestr(f"{root}/{inner}", data)


def _predictor_folder(tmp_path: Path) -> Path:
    """A predictor folder as Predictor.save writes it for a PT2E backend, digests included."""
    folder = tmp_path / "saved"
    folder.mkdir()
    _tiny_program(folder / "model.pt2")
    _write_meta(folder, "model.pt2")
    return folder


def _write_meta(folder: Path, artefact: str) -> None:
    meta = {"backend": "pt2e-int8", "artefact": artefact, "input_size": [32, 32], "notes": "", "size_bytes": 1,
            "sha256": file_digests([folder / "model.pt2"])}
    (folder / "predictor.json").write_text(json.dumps(meta))


def _malicious_pickle(marker: Path) -> bytes:
    return pickle.dumps(_Payload(marker))


def test_the_crafted_sample_inputs_do_run_code_in_plain_torch_export_load(tmp_path: Path) -> None:
    # The attack is real: without our checks, torch falls back to full unpickling and the payload runs.
    marker = tmp_path / "ran"
    archive = _tiny_program(tmp_path / "evil.pt2")
    _rewrite(archive, {"data/sample_inputs/model.pt": _malicious_pickle(marker)})
    try:
        torch.export.load(str(archive))
    except Exception:  # noqa: BLE001 - the payload's return value is not a tuple: load fails after running it
        pass
    assert marker.exists()


@pytest.mark.parametrize("attack", ["sample_inputs", "pickled_weight", "opaque_constant", "guards_code",
                                    "python_target", "aoti_library"])
def test_crafted_pt2_is_refused_and_nothing_runs(tmp_path: Path, attack: str) -> None:
    folder = _predictor_folder(tmp_path)
    archive, marker = folder / "model.pt2", tmp_path / "ran"
    payload = _malicious_pickle(marker)
    with zipfile.ZipFile(archive) as source:
        root = source.namelist()[0].partition("/")[0]
        weights = json.loads(source.read(f"{root}/data/weights/model_weights_config.json"))
        program = json.loads(source.read(f"{root}/models/model.json"))
    if attack == "sample_inputs":
        changes = {"data/sample_inputs/model.pt": payload}
    elif attack == "pickled_weight":
        first = next(iter(weights["config"].values()))
        first["use_pickle"] = True
        changes = {f"data/weights/{first['path_name']}": payload,
                   "data/weights/model_weights_config.json": json.dumps(weights).encode()}
    elif attack == "opaque_constant":
        config = {"config": {"c": {"path_name": "opaque_obj_0", "is_param": False, "use_pickle": True}}}
        changes = {"data/constants/opaque_obj_0": payload,
                   "data/constants/model_constants_config.json": json.dumps(config).encode()}
    elif attack == "guards_code":
        program["guards_code"] = [f"__import__('os').mkdir({str(marker)!r}) is None"]
        changes = {"models/model.json": json.dumps(program).encode()}
    elif attack == "python_target":
        program["graph_module"]["graph"]["nodes"][0]["target"] = "torch.serialization.os.mkdir"
        changes = {"models/model.json": json.dumps(program).encode()}
    else:
        changes = {"data/aotinductor/model/model.so": b"\x7fELF"}
    _rewrite(archive, changes)
    _write_meta(folder, "model.pt2")  # the attacker also updates the digests
    with pytest.raises(UnsafeArtefactError, match="model.pt2"):
        load_predictor(folder)
    assert not marker.exists()


def test_untouched_program_passes_the_archive_checks(tmp_path: Path) -> None:
    check_pt2_archive(_tiny_program(tmp_path / "ok.pt2"))


@pytest.mark.parametrize("name", ["../model.pt2", "/etc/passwd", "sub/model.pt2", "..", ""])
def test_artefact_outside_the_folder_is_refused(tmp_path: Path, name: str) -> None:
    folder = _predictor_folder(tmp_path)
    _write_meta(folder, name)
    with pytest.raises(UnsafeArtefactError, match="plain file name"):
        load_predictor(folder)


def test_artefact_that_is_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder = _predictor_folder(tmp_path)
    outside = _tiny_program(tmp_path / "outside.pt2")
    (folder / "model.pt2").unlink()
    (folder / "model.pt2").symlink_to(outside)
    with pytest.raises(UnsafeArtefactError, match="link"):
        load_predictor(folder)


def test_changed_artefact_fails_its_digest(tmp_path: Path) -> None:
    folder = _predictor_folder(tmp_path)
    data = bytearray((folder / "model.pt2").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "model.pt2").write_bytes(bytes(data))
    with pytest.raises(UnsafeArtefactError, match="SHA-256"):
        load_predictor(folder)


def test_missing_digests_are_refused(tmp_path: Path) -> None:
    folder = _predictor_folder(tmp_path)
    meta = json.loads((folder / "predictor.json").read_text())
    meta["sha256"] = {}
    (folder / "predictor.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="sha256|digests"):
        load_predictor(folder)


def test_corrupt_predictor_json_names_the_file(tmp_path: Path) -> None:
    folder = _predictor_folder(tmp_path)
    (folder / "predictor.json").write_text("{not json")
    with pytest.raises(ValueError, match="predictor.json"):
        load_predictor(folder)
