"""Profiles load into typed dataclasses; unknown names, keys and wrong types are clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.profiles import Profile, available_profiles, load_profile


@pytest.mark.parametrize("name", available_profiles())
def test_every_shipped_profile_loads(name: str) -> None:
    profile = load_profile(name)
    assert isinstance(profile, Profile) and profile.name == name


def test_smoke_and_cpu_exist_and_smoke_is_small() -> None:
    assert {"smoke", "cpu"} <= set(available_profiles())
    smoke, cpu = load_profile("smoke"), load_profile("cpu")
    assert smoke.data.synthetic_train * smoke.data.synthetic_height < cpu.data.synthetic_train * cpu.data.synthetic_height


def test_unknown_profile_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown profile 'gpu-farm'; choose one of \[.*'cpu'.*'smoke'.*\]"):
        load_profile("gpu-farm")


def test_unknown_key_lists_valid_keys() -> None:
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['synthetic_trian'\] in DataConfig; valid keys are"):
        load_profile("smoke", {"data": {"synthetic_trian": 3}})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['gpus'\] in Profile"):
        load_profile("smoke", {"gpus": 2})


def test_wrong_type_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"threads: expected int, got 'many'"):
        load_profile("smoke", {"threads": "many"})
    with pytest.raises(ValueError, match=r"data.*must be a mapping"):
        load_profile("smoke", {"data": 3})


def test_overrides_merge_deeply() -> None:
    profile = load_profile("smoke", {"data": {"synthetic_train": 3}})
    assert profile.data.synthetic_train == 3
    assert profile.data.synthetic_val == load_profile("smoke").data.synthetic_val


def test_profile_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("description: mine\nthreads: 1\n")
    profile = load_profile(str(path))
    assert profile.name == "mine" and profile.threads == 1


@pytest.mark.parametrize("name", available_profiles())
def test_quantization_settings_name_real_backends_and_models(name: str) -> None:
    from lib.models import MODELS
    from lib.quant import BACKENDS, NEEDS_EVAL_FN
    from lib.quant.calibration import METHODS

    profile = load_profile(name)
    quant = profile.quant
    assert set(quant.all_backends()) <= set(BACKENDS) and set(quant.accuracy_aware) <= set(NEEDS_EVAL_FN)
    assert quant.calibration_study_backend in BACKENDS
    assert quant.calib_method in METHODS and set(quant.calibration_study_methods) <= set(METHODS)
    assert set(quant.models) <= set(profile.train.models) and set(profile.train.models) <= set(MODELS)
    assert all(side % 32 == 0 for side in quant.size) and "fp32" in quant.backends


def test_first_model_and_accuracy_aware_paths_go_to_the_first_models_only() -> None:
    from lib.profiles import QuantConfig

    cfg = QuantConfig(backends=("fp32", "ort-int8"), first_model_backends=("inc-int8",),
                      accuracy_aware=("inc-autotune",), accuracy_aware_models=2)
    assert cfg.backends_for(0) == ["fp32", "ort-int8", "inc-int8", "inc-autotune"]
    assert cfg.backends_for(1) == ["fp32", "ort-int8", "inc-autotune"]
    assert cfg.backends_for(2) == ["fp32", "ort-int8"]
    assert cfg.all_backends() == ["fp32", "ort-int8", "inc-int8", "inc-autotune"]
