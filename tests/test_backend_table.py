"""The backend table: every list of backends is derived from it, and a new entry is all a new path needs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

import lib.quant as quant
from lib.quant import SPECS, BackendSpec, available_backends, backend_names, load_predictor, quantize
from lib.quant.base import Predictor, QuantContext, SavedPredictor, make_workdir


def test_derived_lists_agree_with_the_table() -> None:
    assert list(quant.BACKENDS) == list(SPECS) and all(quant.BACKENDS[n] is s.build for n, s in SPECS.items())
    assert all(name == spec.name for name, spec in SPECS.items())
    assert quant.INT8_BACKENDS == tuple(n for n, s in SPECS.items() if s.precision == "int8")
    assert quant.BF16_BACKENDS == tuple(n for n, s in SPECS.items() if s.precision == "bf16")
    assert quant.PYTORCH_INT8_BACKENDS == tuple(n for n in quant.INT8_BACKENDS if SPECS[n].pytorch_native)
    assert quant.NEEDS_EVAL_FN == tuple(n for n, s in SPECS.items() if s.needs_eval_fn)
    # the lists the benchmark, the profiles and the notebooks relied on before the table existed
    assert quant.INT8_BACKENDS == ("pt2e-int8", "inc-int8", "inc-autotune", "ort-int8", "ov-int8", "ov-int8-ac",
                                   "ipex-int8")
    assert quant.PYTORCH_INT8_BACKENDS == ("pt2e-int8", "inc-int8", "inc-autotune", "ipex-int8")
    assert quant.NEEDS_EVAL_FN == ("inc-autotune", "ov-int8-ac")
    assert quant.BF16_BACKENDS == ("bf16", "bf16-compile", "ov-bf16", "ipex-bf16")


def test_a_spec_with_an_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="precision must be one of"):
        replace(SPECS["fp32"], name="fp16", precision="fp16")


def _build_fake(model: nn.Module, ctx: QuantContext) -> Predictor:
    directory, tmp = make_workdir(ctx.out_dir, "fake-int8")
    artefact = directory / "model.fake"
    artefact.write_bytes(b"scale=2")
    return Predictor("fake-int8", lambda x: 2 * model(x), ctx.input_size, static_size=False, size_bytes=7,
                     artefact=artefact, workdir=tmp, notes=f"fake, precision {ctx.precision}")


def _load_fake(saved: SavedPredictor) -> Predictor:
    assert saved.artefact.read_bytes() == b"scale=2" and saved.precision == "int8"
    return Predictor(saved.backend, lambda x: 2 * saved.model(x), saved.input_size, static_size=False,
                     size_bytes=saved.size_bytes, artefact=saved.artefact, notes=saved.notes)


def test_a_new_entry_in_the_table_is_a_new_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = BackendSpec(name="fake-int8", build=_build_fake, precision="int8", load=_load_fake, pytorch_native=True)
    monkeypatch.setitem(SPECS, "fake-int8", fake)
    assert available_backends()["fake-int8"] is None
    assert "fake-int8" in backend_names(lambda s: s.int8 and s.pytorch_native)
    model = nn.Conv2d(3, 2, 1).eval()
    predictor = quantize(model, "fake-int8", input_size=(32, 64))
    assert predictor.notes == "fake, precision int8; calibrated on random images (speed only)"
    images = torch.randn(1, 3, 32, 64)
    reloaded = load_predictor(predictor.save(tmp_path / "saved"), model=model)
    torch.testing.assert_close(reloaded(images), predictor(images))
    monkeypatch.setitem(SPECS, "fake-int8", replace(fake, packages=("no_such_package_anywhere",)))
    assert available_backends()["fake-int8"] == "not installed: no_such_package_anywhere"


def test_a_backend_without_a_loader_refuses_to_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = BackendSpec(name="fake-int8", build=_build_fake, precision="int8", load=None, pytorch_native=True)
    monkeypatch.setitem(SPECS, "fake-int8", fake)
    saved = quantize(nn.Conv2d(3, 2, 1), "fake-int8", input_size=(32, 64)).save(tmp_path)
    with pytest.raises(ValueError, match="saves no artefact"):
        load_predictor(saved)
