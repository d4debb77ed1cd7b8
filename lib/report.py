"""The hardware comparison of notebook 07: run bundles (``lib.bundles``) → long tables → comparisons.

Every figure a bundle's metrics files hold becomes one row of a long table (bundle, configuration, task, item,
metric, value, and the within-run interval where the notebook wrote one). Comparisons are made against a
reference profile: accuracy as a difference, speeds as ratios. A difference is marked *within noise* when it
is smaller than the spread that is known for it: the run-to-run spread where a configuration ran twice or
more, else the within-run interval (bootstrap interval of mIoU, quartiles of a speed-up); *no spread known*
when neither exists. Missing files or keys leave rows out; nothing here raises on a partial bundle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from lib.bundles import Bundle

COLUMNS = ["bundle", "config", "profile", "machine", "task", "item", "metric", "value", "low", "high", "better"]
TASK_ORDER = ("environment", "training", "segmentation", "quantization", "crowd", "footfall")
RATIO_METRICS = {"images/s", "ms", "s/image", "GOP/s", "speed-up", "frames/s"}
"""Metric units compared as ratios (config / reference); everything else as a difference."""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _row(bundle: Bundle, task: str, item: str, metric: str, value: Any, better: str, low: Any = None,
         high: Any = None) -> dict[str, Any] | None:
    number = _number(value)
    if number is None:
        return None
    return {"bundle": bundle.label, "config": bundle.config, "profile": bundle.profile, "machine": bundle.machine,
            "task": task, "item": item, "metric": metric, "value": number, "low": _number(low), "high": _number(high),
            "better": better}


def _records(data: Any, key: str = "records") -> list[dict[str, Any]]:
    records = data.get(key) if isinstance(data, Mapping) else None
    return [r for r in records if isinstance(r, Mapping)] if isinstance(records, list) else []


def environment_rows(b: Bundle) -> Iterable[dict | None]:
    peaks = (b.metrics.get("environment") or {}).get("peak_giga_ops_per_s") or {}
    for dtype, value in peaks.items() if isinstance(peaks, Mapping) else ():
        yield _row(b, "environment", f"GEMM {dtype}", "GOP/s", value, "higher")


def training_rows(b: Bundle) -> Iterable[dict | None]:
    data = b.metrics.get("training") or {}
    models = data.get("models") if isinstance(data.get("models"), Mapping) else {}
    for name, run in models.items():
        if isinstance(run, Mapping):
            item = f"{name} ({run.get('precision', '?')})"
            yield _row(b, "training", item, "images/s", run.get("images_per_s"), "higher")
            yield _row(b, "training", item, "best val mIoU", run.get("best_miou"), "higher")
    for record in _records(data, "speed_by_mode"):
        if not record.get("skipped"):
            yield _row(b, "training", f"{record.get('model')} · mode {record.get('mode')}", "images/s",
                       record.get("images_per_s"), "higher")


def segmentation_rows(b: Bundle) -> Iterable[dict | None]:
    data = b.metrics.get("segmentation") or {}
    for record in _records(data, "accuracy"):
        name = str(record.get("model", "?"))
        if "baseline" not in name:
            yield _row(b, "segmentation", name, "mIoU", record.get("mIoU"), "higher", record.get("CI low"),
                       record.get("CI high"))
    latency = data.get("latency") if isinstance(data.get("latency"), Mapping) else {}
    for name, row in latency.items():
        if isinstance(row, Mapping):
            yield _row(b, "segmentation", f"{name} · fp32 eager", "ms", row.get("median ms"), "lower")
            yield _row(b, "segmentation", f"{name} · fp32 eager batch 2", "images/s", row.get("images/s (batch 2)"),
                       "higher")


def quantization_rows(b: Bundle) -> Iterable[dict | None]:
    for r in _records(b.metrics.get("quantization")):
        if r.get("status", "ok") != "ok":
            continue
        item = f"{r.get('model')} · {r.get('backend')}"
        yield _row(b, "quantization", item, "ms", r.get("latency_ms_median"), "lower")
        yield _row(b, "quantization", item, "mIoU", r.get("miou"), "higher")
        if r.get("backend") != "fp32":
            yield _row(b, "quantization", item, "speed-up", r.get("speedup_vs_fp32_eager"), "higher",
                       r.get("speedup_vs_fp32_eager_q25"), r.get("speedup_vs_fp32_eager_q75"))
            yield _row(b, "quantization", item, "ΔmIoU vs fp32", r.get("delta_miou"), "higher", r.get("delta_miou_low"),
                       r.get("delta_miou_high"))


def crowd_rows(b: Bundle) -> Iterable[dict | None]:
    """Notebook 05: per counter, variant and calibration, its speed, counting errors and contest score."""
    for r in _records(b.metrics.get("crowd")):
        if r.get("skipped"):
            continue
        calibration = r.get("calibration")
        item = " · ".join(str(v) for v in (r.get("model"), r.get("variant"), calibration) if v and v != "none")
        yield _row(b, "crowd", item, "s/image", r.get("seconds_per_image"), "lower", r.get("seconds_per_image_min"),
                   r.get("seconds_per_image_p90"))
        for metric in ("mae", "rmse", "nae"):
            yield _row(b, "crowd", item, metric.upper(), r.get(metric), "lower")
        yield _row(b, "crowd", item, "score S", r.get("score"), "higher")
        if r.get("variant") != "fp32-naive-tiles":
            yield _row(b, "crowd", item, "speed-up", r.get("speedup_vs_naive_fp32"), "higher", r.get("speedup_q25"),
                       r.get("speedup_q75"))


FOOTFALL_METRICS = {"event_f1": "higher", "idf1": "higher", "dedup_f1": "higher", "staff_f1": "higher",
                    "in_error": "lower", "out_error": "lower"}


def footfall_rows(b: Bundle) -> Iterable[dict | None]:
    """Notebook 06: per scenario and deployment path its counting and tracking scores; per path the frame rate."""
    data = b.metrics.get("footfall") or {}
    results = data.get("results") if isinstance(data.get("results"), Mapping) else {}
    for key, scores in results.items():
        if isinstance(scores, Mapping):
            for metric, better in FOOTFALL_METRICS.items():
                yield _row(b, "footfall", str(key).replace("/", " · "), metric, scores.get(metric), better)
    speed = data.get("speed") if isinstance(data.get("speed"), Mapping) else {}
    for path, timing in speed.items():
        if isinstance(timing, Mapping):
            yield _row(b, "footfall", f"{path} · whole pipeline", "frames/s", timing.get("fps"), "higher",
                       timing.get("fps_min"), timing.get("fps_max"))


EXTRACTORS = {"environment": environment_rows, "training": training_rows, "segmentation": segmentation_rows,
              "quantization": quantization_rows, "crowd": crowd_rows, "footfall": footfall_rows}


def long_table(bundles: Iterable[Bundle]) -> pd.DataFrame:
    """Every figure of every bundle, one row each (see ``COLUMNS``)."""
    rows = []
    for bundle in bundles:
        for task in TASK_ORDER:
            rows.extend(r for r in EXTRACTORS[task](bundle) if r is not None)
    return pd.DataFrame(rows, columns=COLUMNS)


def configurations(long: pd.DataFrame) -> pd.DataFrame:
    """Per configuration, task, item and metric: mean over its bundles, run-to-run spread, within-run interval."""
    keys = ["config", "profile", "machine", "task", "item", "metric", "better"]
    if long.empty:
        return pd.DataFrame(columns=[*keys, "value", "runs", "spread", "low", "high"])
    grouped = long.groupby(keys, sort=False)
    table = grouped.agg(value=("value", "mean"), runs=("value", "size"), vmin=("value", "min"), vmax=("value", "max"),
                        low=("low", "mean"), high=("high", "mean")).reset_index()
    table["spread"] = (table["vmax"] - table["vmin"]).where(table["runs"] > 1)
    return table.drop(columns=["vmin", "vmax"])


def reference_configs(table: pd.DataFrame, reference: str) -> dict[str, str]:
    """Machine → the configuration to compare against: the reference profile on the same machine, else anywhere."""
    refs = table.loc[table["profile"] == reference, ["machine", "config"]].drop_duplicates()
    any_ref = refs["config"].iloc[0] if len(refs) else None
    by_machine = dict(zip(refs["machine"], refs["config"], strict=True))
    return {m: by_machine.get(m, any_ref) for m in table["machine"].unique() if by_machine.get(m, any_ref)}


def _noise(row: Mapping[str, Any], ref: Mapping[str, Any], ratio: bool) -> tuple[float | None, str]:
    """The spread a difference must exceed and where it comes from."""
    spreads = [s for s in (row.get("spread"), ref.get("spread")) if _number(s) is not None]
    if spreads:
        spread = max(spreads)
        return (spread / ref["value"] if ratio and ref["value"] else spread), "run-to-run"
    if _number(ref.get("low")) is not None and _number(ref.get("high")) is not None:
        half = (ref["high"] - ref["low"]) / 2
        return (half / ref["value"] if ratio and ref["value"] else half), "within-run interval"
    return None, "no spread known"


def compare(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Each configuration's figures against the reference profile's (same machine when it ran there).

    ``change`` is a ratio (config / reference) for speeds and times, a difference otherwise; ``verdict`` says
    better / worse / within noise (or that no spread is known) from the side where the metric is better.
    """
    refs = reference_configs(table, reference)
    index = {tuple(r[k] for k in ("config", "task", "item", "metric")): r for r in table.to_dict("records")}
    rows = []
    for row in table.to_dict("records"):
        ref_config = refs.get(row["machine"])
        ref = index.get((ref_config, row["task"], row["item"], row["metric"])) if ref_config else None
        if ref is None:
            continue
        ratio = row["metric"] in RATIO_METRICS
        change = row["value"] / ref["value"] if ratio and ref["value"] else row["value"] - ref["value"]
        deviation = abs(change - 1) if ratio else abs(change)
        noise, source = _noise(row, ref, ratio)
        if row["config"] == ref_config:
            verdict = "reference"
        elif noise is None:
            verdict = "no spread known"
        elif deviation <= noise:
            verdict = "within noise"
        else:
            up = change > (1 if ratio else 0)
            verdict = "better" if up == (row["better"] == "higher") else "worse"
        rows.append({"task": row["task"], "item": row["item"], "metric": row["metric"], "config": row["config"],
                     "reference": ref_config, "value": row["value"], "reference value": ref["value"],
                     "change": change, "kind": "ratio" if ratio else "difference", "runs": row["runs"],
                     "noise": noise, "noise from": source, "verdict": verdict})
    return pd.DataFrame(rows, columns=["task", "item", "metric", "config", "reference", "value", "reference value",
                                       "change", "kind", "runs", "noise", "noise from", "verdict"])


def wide(comparison: pd.DataFrame, task: str, metric: str, column: str = "value") -> pd.DataFrame:
    """Items × configurations for one task and metric (``column``: value, change or verdict)."""
    part = comparison[(comparison["task"] == task) & (comparison["metric"] == metric)]
    if part.empty:
        return pd.DataFrame()
    return part.pivot_table(index="item", columns="config", values=column, aggfunc="first", sort=False)


def coverage(bundles: Iterable[Bundle], tasks: Iterable[str]) -> pd.DataFrame:
    """Bundle × task: ✓ where the metrics file is there, "missing" where it is not."""
    return pd.DataFrame({b.label: {t: "✓" if t in b.metrics else "missing" for t in tasks} for b in bundles}).T


def what_more_bundles_add(bundles: list[Bundle], reference: str) -> list[str]:
    """Sentences on what the present bundles cannot show and which run would show it."""
    configs = {b.config for b in bundles}
    counts = {c: sum(b.config == c for b in bundles) for c in configs}
    notes = []
    if not bundles:
        notes.append("no bundle yet: `python -m lib.run --profile smoke` writes one to saved/runs/")
    if len(configs) == 1 and bundles:
        notes.append(f"one configuration ({next(iter(configs))}): a bundle of another profile or machine adds "
                     "accuracy differences and speed ratios against it")
    if bundles and not any(b.profile == reference for b in bundles):
        notes.append(f"no bundle of the reference profile {reference!r}: run `python -m lib.run --profile {reference}` "
                     "or set REFERENCE to one of " + ", ".join(sorted({b.profile for b in bundles})))
    if bundles and all(n == 1 for n in counts.values()):
        notes.append("every configuration ran once: a second bundle of the same profile on the same machine adds the "
                     "run-to-run spread, so speed differences can be told from noise")
    return notes


def int8_speedups(table: pd.DataFrame) -> pd.DataFrame:
    """INT8 (and other) speed-ups over fp32 eager per configuration, with their within-run quartiles."""
    part = table[(table["task"] == "quantization") & (table["metric"] == "speed-up")]
    return part[["config", "item", "value", "low", "high", "runs", "spread"]].rename(
        columns={"value": "speed-up", "low": "q25", "high": "q75"}).reset_index(drop=True)


def _fastest_of_kind(latency: Mapping[str, float], kind: str) -> tuple[str, float] | None:
    """The fastest stock (non-IPEX) path whose name holds ``kind`` (int8, bf16); fp32 eager when none ran."""
    stock = {p: v for p, v in latency.items() if not p.startswith("ipex-") and kind in p}
    stock = stock or {p: v for p, v in latency.items() if p == "fp32"}
    return min(stock.items(), key=lambda kv: kv[1]) if stock else None


def ipex_vs_stock(table: pd.DataFrame, reference: str | None = None) -> pd.DataFrame:
    """Per configuration that ran IPEX paths, per model: IPEX latency against the fastest stock path of each kind.

    ``stock from`` = ``same run``: the same bundle and interleaved rounds, the fair comparison (its stock paths run
    on the IPEX environment's torch). With ``reference``, also against that profile's bundle on the same machine
    (the main environment's torch: what a user gives up or gains by switching environments; separate runs, so
    mind the run-to-run spread). ``ratio`` < 1 means IPEX is faster.
    """
    columns = ["config", "model", "ipex path", "ipex ms", "stock from", "stock path", "stock ms", "ratio"]
    part = table[(table["task"] == "quantization") & (table["metric"] == "ms")].copy()
    if part.empty:
        return pd.DataFrame(columns=columns)
    part[["model", "backend"]] = part["item"].str.split(" · ", n=1, expand=True)
    latency = {key: dict(zip(g["backend"], g["value"], strict=True))
               for key, g in part.groupby(["config", "model"], sort=False)}
    refs = reference_configs(table, reference) if reference else {}
    machine_of = dict(zip(table["config"], table["machine"], strict=False))
    rows = []
    for (config, model), paths_ms in latency.items():
        ref_config = refs.get(machine_of.get(config))
        sources = [("same run", paths_ms)]
        if ref_config and ref_config != config:
            sources.append((ref_config, latency.get((ref_config, model), {})))
        for ipex_path in (p for p in paths_ms if p.startswith("ipex-")):
            for source, candidates in sources:
                fastest = _fastest_of_kind(candidates, ipex_path.split("-", 1)[1])
                if fastest:
                    rows.append({"config": config, "model": model, "ipex path": ipex_path,
                                 "ipex ms": paths_ms[ipex_path], "stock from": source, "stock path": fastest[0],
                                 "stock ms": fastest[1], "ratio": paths_ms[ipex_path] / fastest[1]})
    return pd.DataFrame(rows, columns=columns)
