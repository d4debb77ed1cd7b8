"""Hardware/run profiles: YAML files in ``notebooks/profiles`` loaded into typed dataclasses.

A profile says how big a run is and where it runs. ``smoke`` is tiny (seconds per notebook,
every code path still runs); ``cpu`` is the real default run on an ordinary CPU. Unknown
profiles and unknown keys are errors that list the valid choices, so a typo never silently
falls back to a default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lib import paths
from lib.profile_checks import validate_profile
from lib.train.config import TrainProfile


@dataclass(frozen=True)
class EnvConfig:
    """Notebook 00: sizes of the peak-GEMM measurement."""

    gemm_size: int = 2048
    gemm_repeats: int = 10


@dataclass(frozen=True)
class DataConfig:
    """Notebook 01: which data to use and, for the embedded dataset, how much to generate."""

    source: str = "auto"
    """``auto`` (real Cityscapes when present, else synthetic), ``cityscapes`` or ``synthetic``."""
    class_set: str = "cityscapes19"
    synthetic_train: int = 200
    synthetic_val: int = 40
    synthetic_height: int = 512
    synthetic_width: int = 1024
    synthetic_seed: int = 0
    preview_images: int = 4


@dataclass(frozen=True)
class TrainSpeedConfig:
    """Notebook 02: the training-throughput comparison of execution modes."""

    modes: tuple[str, ...] = ("fp32", "bf16", "bf16-channels_last")
    batch_size: int = 4
    steps: int = 3


@dataclass(frozen=True)
class EvalConfig:
    """Notebook 03: test sizes, flip, latency measurement and pictures."""

    sizes: tuple[tuple[int, int], ...] = ((512, 1024),)
    """Input resolutions to test at (height, width); predictions are scored at ground-truth size."""
    flip: bool = True
    max_images: int = 0
    """Evaluate on the first N validation images (0 = all)."""
    latency_size: tuple[int, int] = (512, 1024)
    latency_repeats: int = 10
    latency_warmup: int = 3
    overlays: int = 3
    official_check_images: int = 4
    """Images scored by both our metrics and cityscapesscripts' evaluator (its pure-Python path is slow)."""
    min_miou_over_baseline: float = 0.0
    """Checks assert mIoU > this × the majority-class baseline's mIoU (0 = only report it)."""


@dataclass(frozen=True)
class QuantConfig:
    """Notebook 04: the deployment paths compared, the images they see and how they are timed."""

    backends: tuple[str, ...] = ("fp32", "fp32-compile", "bf16-compile", "pt2e-int8", "inc-int8", "ort-fp32",
                                 "ort-int8", "ov-fp32", "ov-bf16", "ov-int8", "ipex-bf16", "ipex-int8")
    """Paths measured on every model."""
    first_model_backends: tuple[str, ...] = ()
    """Paths measured on the first model only: on a small CPU each ``torch.compile`` path costs minutes per model."""
    accuracy_aware: tuple[str, ...] = ("inc-autotune", "ov-int8-ac")
    """Accuracy-aware backends; they evaluate several candidates, so they run on the first
    ``accuracy_aware_models`` models only."""
    accuracy_aware_models: int = 1
    models: tuple[str, ...] = ()
    """Models to deploy (their checkpoints from notebook 02); empty = all of the profile's trained models."""
    size: tuple[int, int] = (512, 1024)
    calib_method: str = "class-balanced"
    calib_images: int = 8
    eval_images: int = 20
    """Validation images scored for every backend (0 = all of those training did not validate on)."""
    tuning_images: int = 4
    """Training images (none of the calibration ones) the accuracy-aware backends score their candidates on."""
    tolerable_loss: float = 0.01
    """Relative mIoU loss the accuracy-aware backends accept (0.01 = 1 %)."""
    latency_repeats: int = 10
    latency_warmup: int = 2
    throughput_batch: int = 4
    throughput_repeats: int = 3
    throughput_compiled: bool = True
    """Measure batch-N throughput of the ``torch.compile`` paths too: a second batch size is a second compile."""
    min_pixel_agreement: float = 0.90
    """Checks: each INT8 path must predict the same class as FP32 eager on at least this share of scored pixels."""
    calibration_study_backend: str = "ov-int8"
    calibration_study_methods: tuple[str, ...] = ("random", "class-balanced", "single")

    def backends_for(self, index: int) -> list[str]:
        """The paths measured on the profile's ``index``-th model (0 = the first)."""
        extra = list(self.first_model_backends) if index == 0 else []
        tuned = list(self.accuracy_aware) if index < self.accuracy_aware_models else []
        return list(dict.fromkeys([*self.backends, *extra, *tuned]))

    def all_backends(self) -> list[str]:
        """Every path this profile measures on some model."""
        return list(dict.fromkeys([*self.backends, *self.first_model_backends, *self.accuracy_aware]))


@dataclass(frozen=True)
class FootfallConfig:
    """Notebook 06: simulated door sequences (seed lists disjoint), the three small networks, deployment paths."""

    train_scenarios: tuple[str, ...] = ("busy", "occluded", "sparse", "jittery")
    train_seeds: tuple[int, ...] = tuple(range(1000, 1016))
    """Training sequence ``i`` uses scenario ``train_scenarios[i % len]``; never used for thresholds or scores."""
    train_seconds: float = 10.0
    threshold_scenarios: tuple[str, ...] = ("busy",)
    threshold_seeds: tuple[int, ...] = (2000, 2001)
    """Sequences the de-duplication threshold is chosen on (a PR curve), never scored."""
    threshold_seconds: float = 60.0
    eval_scenarios: tuple[str, ...] = ("busy", "occluded")
    eval_seeds: tuple[int, ...] = (0, 1)
    """Evaluation sequences: every seed in every evaluation scenario."""
    eval_seconds: float = 60.0
    scale: float = 0.5
    """Detector input scale (640×480 frames → 320×240, padded to 320×256)."""
    detector_steps: int = 300
    detector_batch: int = 16
    detector_stride: int = 4
    """Input pixels per output cell of the detector (4 or 2; ``lib.models.footfall_nets.CenterNetTiny``)."""
    detector_peak_kernel: int = 3
    """Side, in output cells, of the window that keeps one heatmap peak per person (odd; with stride 2 a
    person spans more cells, and 5 keeps one peak each: ``lib.footfall.detect.DecodeConfig``)."""
    detector_on_person: float = 0.0
    """Share of the detector's training windows placed around a person (``lib.footfall.train.window_origins``)."""
    crop_steps: int = 1000
    """Training steps of the embedding network."""
    attribute_steps: int = 250
    """Training steps of the attribute (role, front) classifier."""
    crop_batch: int = 48
    crop_seeds_from: int = 1100
    crop_sequences: int = 0
    """More sequences (seeds ``crop_seeds_from`` onwards, scenarios cycling like the training ones) whose crops
    only train the two crop networks: staff wear one uniform per store (sequence), so a role classifier needs
    many stores, not many frames of a few."""
    crop_seconds: float = 10.0
    crop_stride: int = 6
    """Crops of every ``crop_stride``-th frame of those sequences (neighbouring frames add little)."""
    crop_detector_stride: int = 0
    """Every ``crop_detector_stride``-th frame of those sequences trains the detector too (0: none): like the
    role classifier, the detector learns a person from a floor, a mat and a light it has seen before."""
    lr: float = 0.005
    gallery_ttl_s: float = 120.0
    paths: tuple[str, ...] = ("fp32", "ov-int8")
    """Deployment paths of all three networks; the first is the reference the others are compared with."""
    threads: int = 1
    """Intra-op threads of the footfall networks when deployed (1: they are too small to gain from more)."""
    workers: int = 1
    """Processes that simulate the training material and run the threshold and evaluation sequences side by side
    (1: this one). Threads cannot share that work out: the tracking, counting and much of the painting hold the
    GIL."""
    train_threads: int = 0
    """Intra-op threads while the three networks train (0 = one per core): a batch of 16 detector windows
    trains 1.5× faster on two threads than on one."""
    timing_frames: int = 100
    timing_rounds: int = 3
    gif_frames: int = 80
    tolerance: int = 5
    """Frames within which a predicted crossing matches a true one."""
    block_seconds: float = 10.0
    """Time blocks the paired bootstrap of a path-vs-reference difference resamples (a crossing's outcome
    depends on its neighbours in time, so single events are not independent units)."""
    resamples: int = 2000
    """Bootstrap resamples of those intervals."""
    int8_margin: float = 0.02
    """The migration check's margin (2 points): an INT8 path is shown to stay within it of FP32 on a metric only
    where the whole interval of their difference lies inside ±margin."""
    min_event_f1: float = 0.0
    min_idf1: float = 0.0
    """Checks: every path's crossing-event F1 and IDF1 must reach these (0 = only report them: a few training
    steps on `smoke` need not find anyone)."""

    @property
    def crop_seeds(self) -> tuple[int, ...]:
        """Seeds of the crop-only training sequences."""
        return tuple(range(self.crop_seeds_from, self.crop_seeds_from + self.crop_sequences))


@dataclass(frozen=True)
class CrowdConfig:
    """Notebook 05: synthetic crowd data, the two counters, the deployment variants and how they are timed."""

    images: int = 100
    """Synthetic images generated (train and test together)."""
    height: int = 384
    width: int = 512
    max_side: int | None = None
    """The counters' working resolution: images whose longer side exceeds it are scaled down to it for training
    and for every deployment variant (``None``: the stored size)."""
    test_fraction: float = 0.2
    seed: int = 0
    models: tuple[str, ...] = ("csrnet_quarter_bn", "csrnet_bn")
    """Counters trained; the first (the light one) is deployed in every variant."""
    steps: tuple[int, ...] = (300, 20)
    """Training steps, one per model."""
    batch_size: int = 8
    crop: tuple[int, int] = (128, 128)
    lr: tuple[float, ...] = (1e-3, 5e-4)
    """Adam learning rates, one per model."""
    count_weight: float = 0.01
    """Weight of the per-image count term: without it, a small positive bias on the background adds up to
    hundreds of phantom heads over a whole image."""
    grid: tuple[int, int] = (2, 2)
    overlap: int = 32
    backends: tuple[str, ...] = ("pt2e-int8", "ov-int8", "ort-int8")
    """INT8 paths run on batched tiles, each calibrated with ``calibration``."""
    whole_backends: tuple[str, ...] = ("ov-int8",)
    """INT8 paths also built for the whole image and run on it in one call, calibrated with ``calibration`` on
    whole images: the alternative to tiling where the model takes the whole image in memory."""
    backend_options: dict = field(default_factory=dict)
    """Settings passed to ``lib.quant.quantize`` per INT8 backend, e.g. ``{"ov-int8": {"activation_ranges":
    "minmax", "bias_correction": "full"}}``; every build of that backend in 05 uses them."""
    calibration: str = "densest"
    calibration_backend: str = "ov-int8"
    """The INT8 path calibrated all three ways (random, diverse, densest) for the calibration study."""
    calib_images: int = 16
    """Images in the random and the diverse calibration sets."""
    timing_images: int = 2
    rounds: int = 8
    warmup: int = 1
    resamples: int = 2000
    count_correction: bool = True
    """Map every count through a line fitted on the training images' counts (``lib.crowd.correction``): a short
    run from random weights gets the crowd's layout right and its overall scale wrong, differently each run."""
    max_mae_ratio: float = 1 / 3
    """Checks: the light counter's MAE must be at most this × the predict-the-training-mean baseline's."""


@dataclass(frozen=True)
class Profile:
    """Everything a notebook needs to know about the run it is part of."""

    name: str
    description: str = ""
    device: str = "cpu"
    kernel: str = ""
    """Jupyter kernel (environment) the notebooks run under, e.g. ``edge-vision-ipex``; empty = the notebook's own."""
    threads: int = 0
    """Intra-op threads for torch; 0 = all cores of this machine."""
    seed: int = 0
    env: EnvConfig = field(default_factory=EnvConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainProfile = field(default_factory=TrainProfile)
    train_speed: TrainSpeedConfig = field(default_factory=TrainSpeedConfig)
    evaluate: EvalConfig = field(default_factory=EvalConfig)
    quant: QuantConfig = field(default_factory=QuantConfig)
    footfall: FootfallConfig = field(default_factory=FootfallConfig)
    crowd: CrowdConfig = field(default_factory=CrowdConfig)


def available_profiles() -> list[str]:
    """Names of the profiles shipped in ``notebooks/profiles``."""
    return sorted(p.stem for p in paths.PROFILES.glob("*.yaml"))


def profile_path(name: str) -> Path:
    """The YAML file of profile ``name``: a shipped name (``cpu``) or a path to a ``.yaml`` file."""
    looks_like_path = name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name
    path = Path(name).expanduser() if looks_like_path else paths.PROFILES / f"{name}.yaml"
    if not path.is_file():
        where = f"{path} is not a file" if looks_like_path else f"unknown profile {name!r}"
        raise ValueError(f"{where}; choose one of {available_profiles()} (files in {paths.PROFILES}) "
                         "or give the path of a .yaml file")
    return path


def read_profile_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a profile file; YAML errors name the file and the line."""
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML ({err})") from None
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a profile must be a mapping of keys to values")
    return raw


def load_profile(name: str, overrides: dict[str, Any] | None = None) -> Profile:
    """Load profile ``name`` (a shipped name or a path to a YAML file), with optional overrides.

    A profile may name a ``base:`` profile and override some of its keys (one level: a base has no base).
    ``overrides`` uses the YAML's nested shape, e.g. ``{"data": {"synthetic_train": 8}}``. Every value is
    checked here, so a typo fails now with the file and key named, not minutes later inside a notebook.
    """
    path = profile_path(name)
    raw = read_profile_yaml(path)
    where = str(path)
    if "base" in raw:
        base_name = raw.pop("base")
        if not isinstance(base_name, str):
            raise ValueError(f"{path}: 'base' must name a profile, got {base_name!r}")
        base_path = profile_path(base_name)
        base = read_profile_yaml(base_path)
        if "base" in base:
            raise ValueError(f"{path}: base profile {base_path} has a base of its own; profiles compose one level deep")
        base.pop("description", None)
        raw = _merge(base, raw)
        where = f"{path} (base {base_path.name})"
    raw = _merge(raw, overrides or {})
    raw.setdefault("name", path.stem)
    profile = _build(Profile, raw, where=where)
    validate_profile(profile, where)
    return profile


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _build(cls: type, raw: dict[str, Any], where: str) -> Any:
    """Instantiate dataclass ``cls`` from ``raw``, recursing into nested dataclasses."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown} in {cls.__name__}; valid keys are {sorted(fields)}")
    kwargs = {}
    for key, value in raw.items():
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise ValueError(f"{where}: {key!r} must be a mapping with keys {[f.name for f in dataclasses.fields(hint)]}")
            kwargs[key] = _build(hint, value, f"{where}:{key}")
        else:
            kwargs[key] = _coerce(value, hint, f"{where}:{key}")
    try:
        return cls(**kwargs)
    except ValueError as err:  # a dataclass's own checks (e.g. the training recipe's)
        raise ValueError(f"{where}: {err}") from None


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check ``value`` against a simple type hint; tuples are accepted from YAML lists."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        for option in typing.get_args(hint):
            try:
                return _coerce(value, option, where)
            except ValueError:
                continue
        raise ValueError(f"{where}: {value!r} is not a {hint}")
    if hint is type(None):
        if value is None:
            return None
        raise ValueError(f"{where}: expected null, got {value!r}")
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        items = [_coerce(v, item, where) for v in value]
        return tuple(items) if origin is tuple else items
    if hint is Any:
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):  # YAML 1.1 reads 2e-2 (no dot) as a string
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{where}: expected a number, got {value!r}") from None
    if hint in (int, float) and isinstance(value, bool):
        raise ValueError(f"{where}: expected {hint.__name__}, got {value!r}")
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ValueError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value
