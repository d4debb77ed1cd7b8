"""Profiles load into typed dataclasses; unknown names, keys and wrong types are clear errors."""

from __future__ import annotations

import re
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


@pytest.mark.parametrize(("override", "key"), [
    ({"train": {"models": ["unet_resnet19"]}}, "train.models"),
    ({"quant": {"backends": ["ov-int9"]}}, "quant.backends"),
    ({"data": {"class_set": "city19"}}, "data.class_set"),
    ({"device": "gpu"}, "device"),
    ({"quant": {"size": [500, 1000]}}, "quant.size"),
    ({"evaluate": {"sizes": [[384, 770]]}}, "evaluate.sizes"),
    ({"train": {"crop": [64]}}, "crop"),
    ({"train": {"optimizer": "adam"}}, "optimizer"),
    ({"quant": {"calib_method": "best"}}, "quant.calib_method"),
    ({"train": {"checkpoint_every": 0}}, "checkpoint_every"),
])
def test_bad_values_are_rejected_at_load_time_naming_file_and_key(override: dict, key: str) -> None:
    with pytest.raises(ValueError, match=rf"smoke\.yaml.*{re.escape(key)}"):
        load_profile("smoke", override)


def test_exponent_without_dot_is_a_float(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("base: smoke\ntrain:\n  lr: 2e-2\n")
    assert load_profile(str(path)).train.lr == 0.02


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("train:\n  lr: [0.1\n")
    with pytest.raises(ValueError, match="broken.yaml"):
        load_profile(str(path))


def test_a_folder_or_missing_path_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a file"):
        load_profile(str(tmp_path))
    with pytest.raises(ValueError, match="is not a file"):
        load_profile(str(tmp_path / "nope.yaml"))


def test_base_profile_merges_and_overrides_two_keys(tmp_path: Path) -> None:
    path = tmp_path / "cpu-fp32.yaml"
    path.write_text("base: cpu\ntrain:\n  precision: fp32\nquant:\n  backends: [fp32, ov-int8]\n")
    mine, cpu = load_profile(str(path)), load_profile("cpu")
    assert mine.name == "cpu-fp32" and mine.train.precision == "fp32" and mine.quant.backends == ("fp32", "ov-int8")
    assert mine.train.models == cpu.train.models and mine.data == cpu.data and mine.evaluate == cpu.evaluate


def test_base_keys_are_validated_and_bases_do_not_chain(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("base: cpu\n")
    (tmp_path / "b.yaml").write_text(f"base: {tmp_path / 'a.yaml'}\n")
    with pytest.raises(ValueError, match="one level"):
        load_profile(str(tmp_path / "b.yaml"))
    (tmp_path / "c.yaml").write_text("base: cpu\ntrain:\n  modles: [x]\n")
    with pytest.raises(ValueError, match="modles"):
        load_profile(str(tmp_path / "c.yaml"))
