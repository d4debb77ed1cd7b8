"""Every value of a loaded profile checked against what the code accepts, naming the file, the key and the choices.

The choices come from the tables that define them (``lib.models.MODELS``, ``lib.quant.BACKENDS``, the class
sets, the calibration methods, the training-speed modes), so a new model or backend is valid here at once.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from lib.sizes import STRIDE, is_valid_size

DEVICE = re.compile(r"^(cpu|cuda(:\d+)?|xpu(:\d+)?)$")
DATA_SOURCES = ("auto", "cityscapes", "synthetic")
KERNEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
"""A Jupyter kernel name as ``ipykernel install --name`` accepts it."""


def _choice(where: str, key: str, values: Iterable[str], valid: Collection[str]) -> None:
    for value in values:
        if value not in valid:
            raise ValueError(f"{where}: {key} = {value!r} is not valid; choose from {sorted(valid)}")


def _size(where: str, key: str, size: Any, allow_zero: bool = False) -> None:
    ok = isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(s, int) for s in size)
    if ok and allow_zero and tuple(size) == (0, 0):
        return
    if not ok or not is_valid_size(*size):
        zero = " (or [0, 0] for native size)" if allow_zero else ""
        raise ValueError(f"{where}: {key} = {size!r} must be [height, width], both positive multiples of {STRIDE}{zero}")


def _at_least(where: str, minimum: int, **values: int) -> None:
    for key, value in values.items():
        if value < minimum:
            raise ValueError(f"{where}: {key} = {value} must be at least {minimum}")


def validate_profile(profile: Any, where: str) -> None:
    """Raise ``ValueError`` naming ``where`` and the key for the first invalid value of ``profile``."""
    from lib.bench.train_speed import MODES
    from lib.data.labels import CLASS_SETS
    from lib.models import MODELS
    from lib.quant import BACKENDS
    from lib.quant.calibration import METHODS

    if not DEVICE.match(profile.device):
        raise ValueError(f"{where}: device = {profile.device!r} is not valid; use cpu, cuda, cuda:N, xpu or xpu:N")
    _at_least(where, 0, threads=profile.threads)
    data, train, speed, evaluate, quant = profile.data, profile.train, profile.train_speed, profile.evaluate, profile.quant
    _choice(where, "data.source", [data.source], DATA_SOURCES)
    _choice(where, "data.class_set", [data.class_set], CLASS_SETS)
    _choice(where, "train.class_set", [train.class_set], CLASS_SETS)
    _size(where, "data.synthetic_height/width", [data.synthetic_height, data.synthetic_width])
    _at_least(where, 0, **{"data.synthetic_train": data.synthetic_train, "data.synthetic_val": data.synthetic_val})
    _choice(where, "train.models", train.models, MODELS)
    _size(where, "train.crop", train.crop)
    _size(where, "train.val_size", train.val_size, allow_zero=True)
    _choice(where, "train_speed.modes", speed.modes, MODES)
    for size in evaluate.sizes:
        _size(where, "evaluate.sizes", size)
    _size(where, "evaluate.latency_size", evaluate.latency_size)
    _at_least(where, 1, **{"evaluate.latency_repeats": evaluate.latency_repeats, "quant.latency_repeats":
                           quant.latency_repeats, "quant.calib_images": quant.calib_images})
    _choice(where, "quant.models", quant.models, train.models)
    for key in ("backends", "first_model_backends", "accuracy_aware"):
        _choice(where, f"quant.{key}", getattr(quant, key), BACKENDS)
    _choice(where, "quant.calibration_study_backend", [quant.calibration_study_backend], BACKENDS)
    _choice(where, "quant.calib_method", [quant.calib_method], METHODS)
    _choice(where, "quant.calibration_study_methods", quant.calibration_study_methods, METHODS)
    _size(where, "quant.size", quant.size)
    if profile.kernel and not KERNEL.match(profile.kernel):
        raise ValueError(f"{where}: kernel = {profile.kernel!r} is not a Jupyter kernel name (letters, digits, '.', '_', '-')")
    if profile.train.ipex and not profile.device.startswith(("cpu", "xpu")):
        raise ValueError(f"{where}: train.ipex needs device cpu or xpu, got {profile.device!r}")
    _check_footfall(where, profile.footfall, BACKENDS)
    _check_crowd(profile.crowd, f"{where}")


def _check_footfall(where: str, ff: Any, backends: Collection[str]) -> None:
    """Scenarios exist, paths are backends, seed lists are disjoint, counts and durations positive."""
    from lib.footfall.sim import SCENARIOS

    for key in ("train_scenarios", "threshold_scenarios", "eval_scenarios"):
        if not getattr(ff, key):
            raise ValueError(f"{where}: footfall.{key} is empty; name at least one of {sorted(SCENARIOS)}")
        _choice(where, f"footfall.{key}", getattr(ff, key), SCENARIOS)
    if not ff.paths:
        raise ValueError(f"{where}: footfall.paths is empty; name at least one of {sorted(backends)}")
    _choice(where, "footfall.paths", ff.paths, backends)
    lists = {key: set(getattr(ff, key)) for key in ("train_seeds", "threshold_seeds", "eval_seeds")}
    for key, seeds in lists.items():
        if not seeds:
            raise ValueError(f"{where}: footfall.{key} is empty")
    crops = "crop_seeds_from/crop_sequences"  # the crop-only sequences' seeds, as the profile sets them
    lists[crops] = set(ff.crop_seeds)
    for a, b in (("train_seeds", "threshold_seeds"), ("train_seeds", "eval_seeds"), ("threshold_seeds", "eval_seeds"),
                 (crops, "threshold_seeds"), (crops, "eval_seeds")):
        shared = lists[a] & lists[b]
        if shared:
            raise ValueError(f"{where}: footfall.{a} and footfall.{b} share seeds {sorted(shared)}: a sequence that "
                             "trained a network or chose a threshold must never be scored")
    _at_least(where, 1, **{f"footfall.{k}": getattr(ff, k) for k in (
        "detector_steps", "detector_batch", "crop_steps", "attribute_steps", "crop_batch", "crop_stride",
        "timing_frames", "timing_rounds", "gif_frames", "threads")})
    _at_least(where, 0, **{"footfall.tolerance": ff.tolerance, "footfall.crop_sequences": ff.crop_sequences,
                           "footfall.crop_detector_stride": ff.crop_detector_stride})
    if ff.detector_stride not in (2, 4):
        raise ValueError(f"{where}: footfall.detector_stride = {ff.detector_stride}: the detector's output stride is 2 or 4")
    if ff.detector_peak_kernel < 1 or ff.detector_peak_kernel % 2 == 0:
        raise ValueError(f"{where}: footfall.detector_peak_kernel = {ff.detector_peak_kernel}: "
                         "the peak window's side is an odd number of output cells (3, 5, ...)")
    if not 0 <= ff.detector_on_person <= 1:
        raise ValueError(f"{where}: footfall.detector_on_person = {ff.detector_on_person} is a share: 0 to 1")
    for key in ("train_seconds", "crop_seconds", "threshold_seconds", "eval_seconds", "lr", "gallery_ttl_s", "scale"):
        if not getattr(ff, key) > 0:
            raise ValueError(f"{where}: footfall.{key} = {getattr(ff, key)} must be positive")


def _check_crowd(crowd: Any, where: str) -> None:
    """The ``crowd:`` section (notebook 05)."""
    from lib.crowd.calibration import CALIBRATION_METHODS
    from lib.models import COUNTERS
    from lib.quant import BACKENDS, check_options

    _choice(where, "crowd.models", crowd.models, COUNTERS)
    for key in ("steps", "lr"):
        if not crowd.models or len(getattr(crowd, key)) != len(crowd.models):
            raise ValueError(f"{where}: crowd.{key} = {list(getattr(crowd, key))} needs one value per model of "
                             f"crowd.models {list(crowd.models)}")
    _choice(where, "crowd.backends", crowd.backends, BACKENDS)
    _choice(where, "crowd.whole_backends", crowd.whole_backends, BACKENDS)
    _choice(where, "crowd.calibration_backend", [crowd.calibration_backend], BACKENDS)
    _choice(where, "crowd.calibration", [crowd.calibration], CALIBRATION_METHODS)
    _size(where, "crowd.height/width", [crowd.height, crowd.width])
    _size(where, "crowd.crop", crowd.crop)
    if crowd.max_side is not None and not (isinstance(crowd.max_side, int) and is_valid_size(crowd.max_side, crowd.max_side)):
        raise ValueError(f"{where}: crowd.max_side = {crowd.max_side!r} must be null (the stored size) or a positive "
                         f"multiple of {STRIDE}")
    _choice(where, "crowd.backend_options", list(crowd.backend_options), BACKENDS)
    for backend, options in crowd.backend_options.items():
        if not isinstance(options, dict):
            raise ValueError(f"{where}: crowd.backend_options = {crowd.backend_options!r} must map a backend to a "
                             "mapping of its settings")
        try:
            check_options(backend, options)
        except ValueError as err:
            raise ValueError(f"{where}: crowd.backend_options: {err}") from None
    if not isinstance(crowd.count_correction, bool):
        raise ValueError(f"{where}: crowd.count_correction = {crowd.count_correction!r} must be true or false")
    _at_least(where, 1, **{f"crowd.steps[{i}]": s for i, s in enumerate(crowd.steps)})
    _at_least(where, 1, **{f"crowd.{key}": getattr(crowd, key) for key in (
        "images", "batch_size", "calib_images", "timing_images", "rounds", "resamples")})
    if len(crowd.grid) != 2 or min(crowd.grid) < 1:
        raise ValueError(f"{where}: crowd.grid = {list(crowd.grid)} must be [rows, cols], both at least 1")
    _at_least(where, 0, **{"crowd.overlap": crowd.overlap, "crowd.warmup": crowd.warmup})
    if not 0 < crowd.test_fraction < 1 or min(crowd.lr) <= 0 or crowd.count_weight < 0 or crowd.max_mae_ratio <= 0:
        raise ValueError(f"{where}: crowd needs 0 < test_fraction < 1, lr > 0, count_weight >= 0 and max_mae_ratio > 0; "
                         f"got {crowd.test_fraction}, {list(crowd.lr)}, {crowd.count_weight}, {crowd.max_mae_ratio}")
