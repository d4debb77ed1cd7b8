"""The deployment benchmark: every backend of ``lib.quant`` on one model, same images, same threads.

For each backend: build time, size on disk, batch-1 latency (warm-up, then interleaved rounds over all paths:
median, p90, min), batch-N throughput, and — given a scoring function — mIoU, per-class IoU, the drop against
FP32 eager with its paired bootstrap interval and pixel agreement, the speed-ups over FP32 eager and over the
fastest FP32 path with their spread, and the achieved GOP/s against this machine's measured peak.
A backend whose package is missing is *skipped* with the reason; one that breaks is *failed* with the error.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from lib.bench.inference import benchmark_predictor
from lib.bench.timing import interleaved_rounds, summarize
from lib.quant import (
    INT8_BACKENDS,
    NEEDS_EVAL_FN,
    PYTORCH_INT8_BACKENDS,
    BackendUnavailable,
    Predictor,
    achieved_gops,
    available_backends,
    quantize,
)
from lib.stats import ratio_spread

ScoreFn = Callable[[Callable[[torch.Tensor], torch.Tensor]], dict[str, Any]]
"""Scores a predictor: returns at least ``{"miou": float}``, optionally ``"per_class_iou": list[float]``."""

REFERENCE = "fp32"


def benchmark_backends(
    model: nn.Module,
    model_name: str,
    backends: Sequence[str],
    input_size: tuple[int, int],
    calib: Iterable[Any] | None = None,
    score_fn: ScoreFn | None = None,
    tuning_score_fn: Callable[[Callable], float | Mapping[str, Any]] | None = None,
    tolerable_loss: float = 0.01,
    macs: float | None = None,
    int8_peak_gops: float | None = None,
    repeats: int = 10,
    warmup: int = 2,
    throughput_batch: int = 4,
    throughput_repeats: int = 3,
    throughput_compiled: bool = True,
    out_dir: str | Path | None = None,
    progress: bool = True,
) -> tuple[list[dict[str, Any]], dict[str, Predictor]]:
    """One record per backend (see module docstring) and the predictors that were built.

    Every path is built and scored first; then batch-1 latency is timed in ``repeats`` interleaved rounds over all
    paths (``lib.bench.timing.interleaved_rounds``), so speed ratios come from timings taken moments apart and
    carry their spread. ``fp32`` (eager) is the reference for ``delta_miou`` and ``speedup_vs_fp32_eager``.
    ``tuning_score_fn`` (default: ``score_fn``'s mIoU) is what the accuracy-aware backends optimise: give it
    images the scored ones do not include. ``throughput_compiled=False`` leaves the batch-N throughput of
    ``torch.compile`` paths unmeasured (None): each new batch size recompiles them.
    """
    backends = [REFERENCE] + [b for b in backends if b != REFERENCE]
    calib = list(calib) if calib is not None else None
    tuning_fn = tuning_score_fn or score_fn
    tuning_score = (lambda predictor: scalar_score(tuning_fn(predictor))) if tuning_fn is not None else None
    reasons = available_backends()
    records: list[dict[str, Any]] = []
    predictors: dict[str, Predictor] = {}
    for backend in tqdm(backends, desc=f"{model_name}: build and score", disable=not progress):
        record: dict[str, Any] = {"model": model_name, "backend": backend, "status": "ok", "reason": "",
                                  "int8": backend in INT8_BACKENDS}
        records.append(record)
        if backend not in reasons:
            raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(reasons)}")
        if reasons[backend]:
            record.update(status="skipped", reason=reasons[backend])
            continue
        if backend in NEEDS_EVAL_FN and tuning_score is None:
            record.update(status="skipped", reason="accuracy-aware: needs validation data (a score function)")
            continue
        try:
            predictor = quantize(model, backend, calib, input_size=input_size, eval_fn=tuning_score,
                                 tolerable_loss=tolerable_loss, out_dir=Path(out_dir) / model_name if out_dir else None)
            if out_dir is not None and predictor.artefact is not None:
                predictor.save(predictor.artefact.parent)  # writes predictor.json: reloadable with load_predictor
            record.update(describe_predictor(predictor))
            if score_fn is not None:
                record.update(score_record(score_fn(predictor)))
            record.update(throughput_record(predictor, input_size, throughput_batch, throughput_repeats,
                                            throughput_compiled))
            predictors[backend] = predictor
        except BackendUnavailable as err:
            record.update(status="skipped", reason=str(err))
        except Exception as err:  # one broken backend must not hide the others' results
            record.update(status="failed", reason=f"{type(err).__name__}: {err}".strip()[:500],
                          traceback=traceback.format_exc(limit=3))
    images = torch.randn(1, 3, *input_size, generator=torch.Generator().manual_seed(0))
    samples = interleaved_rounds({b: partial(p, images) for b, p in predictors.items()}, rounds=repeats, warmup=warmup,
                                 progress=progress)
    for record in records:
        if record["backend"] in samples:
            record.update(latency_record(samples[record["backend"]], warmup))
    add_relative_figures(records, samples, macs, int8_peak_gops)
    return records, predictors


def describe_predictor(predictor: Predictor) -> dict[str, Any]:
    """What a table says of a built path besides its speed and accuracy."""
    return {"notes": predictor.notes, "quantize_s": predictor.quantize_seconds, "size_mb": predictor.size_bytes / 1e6,
            "trials": predictor.trials}


def score_record(scores: Mapping[str, Any]) -> dict[str, Any]:
    """A score function's result as record fields; ``image_scores`` (per-image confusions) kept for the intervals."""
    record: dict[str, Any] = {"miou": float(scores["miou"])}
    if "per_class_iou" in scores:
        record["per_class_iou"] = [float(x) for x in scores["per_class_iou"]]
    if "image_scores" in scores:
        record["image_scores"] = scores["image_scores"]
        record["scored_images"] = len(scores["image_scores"].indices)
    return record


def latency_record(samples_ms: Sequence[float], warmup: int) -> dict[str, Any]:
    """Batch-1 latency statistics from a path's share of the interleaved rounds."""
    timing = summarize(samples_ms, warmup)
    return {"latency_ms_median": timing.median_ms, "latency_ms_p90": timing.p90_ms, "latency_ms_min": timing.min_ms,
            "latency_repeats": timing.repeats, "threads": timing.threads}


def throughput_record(predictor: Predictor, input_size: tuple[int, int], batch: int, repeats: int,
                      compiled_too: bool) -> dict[str, Any]:
    """Batch-N images per second (None for a compiled predictor unless ``compiled_too``: a second compile)."""
    if predictor.compiled and not compiled_too:
        return {"throughput_batch": None, "images_per_s": None}
    batched = benchmark_predictor(predictor, input_size, batch, repeats, 1)
    return {"throughput_batch": batch, "images_per_s": batched["images_per_s"]}


def json_records(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records without what does not belong in a JSON file (tracebacks, per-image score objects)."""
    return [{k: v for k, v in r.items() if k not in ("traceback", "image_scores")} for r in records]


def scalar_score(score: float | Mapping[str, Any]) -> float:
    """A score function's result as one number: its ``miou`` when it returns a mapping."""
    return float(score["miou"] if isinstance(score, Mapping) else score)


FP32_PATHS = ("fp32", "fp32-compile", "ort-fp32", "ov-fp32", "ipex-fp32")
"""Full-precision paths: the fastest of them is the honest baseline for an INT8 speed-up."""


def add_relative_figures(records: list[dict[str, Any]], samples: Mapping[str, Sequence[float]],
                         macs: float | None, int8_peak_gops: float | None) -> None:
    """Against FP32 eager: ``delta_miou`` with its paired bootstrap interval and the pixel agreement; speed-ups
    (median of per-round ratios, with quartiles) against FP32 eager and against the fastest FP32 path;
    GOP/s against the measured INT8 peak."""
    ok = [r for r in records if r["status"] == "ok" and r["backend"] in samples]
    reference = next((r for r in ok if r["backend"] == REFERENCE), None)
    fp32 = [r for r in ok if r["backend"] in FP32_PATHS]
    fastest_fp32 = min(fp32, key=lambda r: r["latency_ms_median"]) if fp32 else None
    for record in ok:
        for key, base in (("speedup_vs_fp32_eager", reference), ("speedup_vs_fastest_fp32", fastest_fp32)):
            if base is not None:
                spread = ratio_spread(samples[base["backend"]], samples[record["backend"]])
                record.update({key: spread.median, f"{key}_q25": spread.q25, f"{key}_q75": spread.q75})
        if fastest_fp32 is not None:
            record["fastest_fp32_backend"] = fastest_fp32["backend"]
        if reference is not None and "image_scores" in record and "image_scores" in reference:
            mine, fp32_scores = record["image_scores"], reference["image_scores"]
            record["delta_miou"] = record["miou"] - reference["miou"]
            interval = mine.difference(fp32_scores)
            record.update(delta_miou_low=interval.low, delta_miou_high=interval.high)
            if mine.predictions is not None and fp32_scores.predictions is not None:
                record["pixel_agreement_vs_fp32"] = mine.agreement(fp32_scores)
        elif reference is not None and "miou" in record and "miou" in reference:
            record["delta_miou"] = record["miou"] - reference["miou"]
        if macs:
            record["achieved_gops"] = achieved_gops(macs, record["latency_ms_median"])
            if int8_peak_gops:
                record["fraction_of_int8_peak"] = record["achieved_gops"] / int8_peak_gops


def summary_ratios(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The quantities the targets speak of, per model: best INT8 speed-up and its mIoU drop, best PyTorch-native
    INT8 against the fastest path, the best path's share of the INT8 GEMM peak, and the speed-up over FP32 eager
    that running at that peak would give (NaN without MACs and a measured peak)."""
    out: dict[str, Any] = {}
    for model in dict.fromkeys(r["model"] for r in records):
        ok = [r for r in records if r["model"] == model and r["status"] == "ok"]
        int8 = [r for r in ok if r["int8"]]
        if not ok:
            continue
        fastest = min(ok, key=lambda r: r["latency_ms_median"])
        reference = next((r for r in ok if r["backend"] == REFERENCE), {})
        row: dict[str, Any] = {"fastest_backend": fastest["backend"], "fastest_ms": fastest["latency_ms_median"],
                               "fastest_fraction_of_int8_peak": fastest.get("fraction_of_int8_peak", math.nan),
                               # what a whole network running at the INT8 GEMM peak would gain over FP32 eager:
                               # on CPUs without VNNI/AMX this, not the quantizer, bounds the speed-up
                               "int8_speedup_at_peak": 1 / reference.get("fraction_of_int8_peak", math.nan)}
        if int8:
            best = min(int8, key=lambda r: r["latency_ms_median"])
            row.update(best_int8_backend=best["backend"], best_int8_speedup=best.get("speedup_vs_fp32_eager", math.nan),
                       best_int8_delta_miou=best.get("delta_miou", math.nan))
            for key in ("speedup_vs_fp32_eager_q25", "speedup_vs_fp32_eager_q75", "speedup_vs_fastest_fp32",
                        "speedup_vs_fastest_fp32_q25", "speedup_vs_fastest_fp32_q75", "fastest_fp32_backend",
                        "delta_miou_low", "delta_miou_high", "pixel_agreement_vs_fp32", "scored_images"):
                if key in best:
                    row[f"best_int8_{key}"] = best[key]
        native = [r for r in int8 if r["backend"] in PYTORCH_INT8_BACKENDS]
        if native:
            best_native = min(native, key=lambda r: r["latency_ms_median"])
            row.update(best_pytorch_int8_backend=best_native["backend"],
                       pytorch_int8_vs_fastest=best_native["latency_ms_median"] / fastest["latency_ms_median"])
        out[model] = row
    return out


TARGETS = {"best_int8_speedup": 5.0, "best_int8_delta_miou": -0.01, "pytorch_int8_vs_fastest": 1.3,
           "fastest_fraction_of_int8_peak": 0.6}
"""The deployment targets on a 2-core CPU, judged at the profile's deployment size: INT8 ≥ 5× FP32 eager with ≤ 1
point mIoU drop, the best PyTorch-native INT8 within 1.3× of the fastest path, the fastest path at ≥ 60 % of the
INT8 GEMM peak."""


def target_verdicts(summary: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Per model, each target ``met``, ``not met`` or ``n/a`` (the path or the peak was not measured)."""

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "not met")

    def value(row: dict[str, Any], key: str) -> float | None:
        number = row.get(key)
        return None if number is None or math.isnan(number) else float(number)

    verdicts = {}
    for model, row in summary.items():
        speedup, drop = value(row, "best_int8_speedup"), value(row, "best_int8_delta_miou")
        native, peak = value(row, "pytorch_int8_vs_fastest"), value(row, "fastest_fraction_of_int8_peak")
        verdicts[model] = {
            "INT8 ≥5× and drop ≤1 pt": verdict(None if speedup is None or drop is None else
                                               speedup >= TARGETS["best_int8_speedup"]
                                               and drop >= TARGETS["best_int8_delta_miou"]),
            "PyTorch INT8 within 1.3×": verdict(None if native is None else native <= TARGETS["pytorch_int8_vs_fastest"]),
            "≥60 % of INT8 peak": verdict(None if peak is None else peak >= TARGETS["fastest_fraction_of_int8_peak"]),
        }
    return verdicts
