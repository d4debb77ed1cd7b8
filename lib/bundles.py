"""Run bundles: everything one ``lib.run`` leaves behind, in one folder another machine's bundles can sit beside.

    saved/runs/<profile>/<timestamp>/          written by ``python -m lib.run --profile <profile>``
        NN_*.ipynb                             the executed notebooks
        summary.json, summary.md               notebooks, status, seconds
        bundle.json                            profile, kernel, machine, start/end, minutes, metrics copied
        environment.json                       ``lib.sysinfo.machine_report()`` from the kernel that ran
        metrics/<task>_<profile>.json          every ``saved/metrics/*_<profile>.json``, copied

    reports/<machine>/<profile>/<timestamp>/   the same without executed notebooks (``lib.run --export``), committed

Reading is defensive: a bundle with a missing or unreadable file loads with that file absent, never raises.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lib import paths
from lib.io import atomic_write_json

REPORTS: Path = paths.ROOT / "reports"
"""Committed bundles from other machines: ``reports/<machine>/<profile>/<timestamp>/``."""
BUNDLE_FILE, SUMMARY_FILE, ENVIRONMENT_FILE, METRICS_DIR = "bundle.json", "summary.json", "environment.json", "metrics"
TASKS = ("environment", "data", "training", "segmentation", "quantization", "crowd", "footfall")
"""The metrics files notebooks 00–06 write (``saved/metrics/<task>_<profile>.json``), in notebook order."""

MACHINE_REPORT = "import json; from lib.sysinfo import machine_report; print(json.dumps(machine_report(), default=str))"


def metrics_files(profile: str, metrics_dir: Path | None = None) -> list[Path]:
    """``<task>_<profile>.json`` in ``metrics_dir`` (exactly this profile: ``smoke`` does not take ``smoke-fp32``'s)."""
    folder = paths.METRICS if metrics_dir is None else metrics_dir
    pattern = re.compile(rf"^[a-z0-9]+_{re.escape(profile)}\.json$")
    return sorted(p for p in folder.glob(f"*_{profile}.json") if pattern.match(p.name)) if folder.is_dir() else []


def kernel_machine_report(python: str | None) -> dict[str, Any]:
    """``machine_report()`` as the kernel's interpreter sees it (its torch, its backends); this process's otherwise."""
    from lib.hardware import is_this_interpreter

    if python and not is_this_interpreter(python):
        try:
            done = subprocess.run([python, "-c", MACHINE_REPORT], capture_output=True, text=True, timeout=300,
                                  check=True, cwd=paths.ROOT)
            return json.loads(done.stdout.strip().splitlines()[-1])
        except (OSError, subprocess.SubprocessError, json.JSONDecodeError, IndexError) as err:
            report = _local_machine_report()
            report["note"] = f"kernel interpreter {python} gave no report ({type(err).__name__}); this is the driver's"
            return report
    return _local_machine_report()


def _local_machine_report() -> dict[str, Any]:
    from lib.sysinfo import machine_report

    return json.loads(json.dumps(machine_report(), default=str))


def machine_label(report: dict[str, Any]) -> str:
    """A short folder-safe name for a machine: CPU model, best ISA level, usable cores, GPU if any."""
    cpu = str(report.get("cpu_model") or "unknown-cpu")
    isa = report.get("isa") or {}
    level = next((name for name in ("AMX-BF16", "AVX-512 BF16", "AVX-512 VNNI", "AVX-512F", "AVX2") if isa.get(name)), "")
    parts = [cpu, level, f"{report.get('usable_cpus', '?')}c"]
    for accelerator in (report.get("accelerators") or {}).values():
        if isinstance(accelerator, dict) and accelerator.get("available") and accelerator.get("name"):
            parts.append(str(accelerator["name"]))
    slug = re.sub(r"[^a-z0-9]+", "-", " ".join(p for p in parts if p).lower())
    return re.sub(r"-(cpu|processor|with|radeon|graphics)(?=-|$)", "", slug).strip("-") or "unknown"


def write_bundle(out_dir: Path, profile: str, kernel: str, kernel_python: str | None, started: datetime,
                 results: list[Any], metrics_dir: Path | None = None) -> dict[str, Any]:
    """Complete the run folder ``out_dir`` as a bundle: metrics copied, environment report, ``bundle.json``."""
    finished = datetime.now(UTC)
    (out_dir / METRICS_DIR).mkdir(parents=True, exist_ok=True)
    copied = []
    for source in metrics_files(profile, metrics_dir):
        shutil.copy2(source, out_dir / METRICS_DIR / source.name)
        written = datetime.fromtimestamp(source.stat().st_mtime, UTC)
        copied.append({"file": source.name, "written": written.isoformat(timespec="seconds"),
                       "this_run": written >= started.replace(microsecond=0)})
    environment = kernel_machine_report(kernel_python)
    atomic_write_json(out_dir / ENVIRONMENT_FILE, environment)
    statuses = [getattr(r, "status", "failed") for r in results]
    bundle = {"profile": profile, "kernel": kernel or "(notebook default)", "machine": machine_label(environment),
              "hostname": environment.get("hostname"), "cpu_model": environment.get("cpu_model"),
              "torch": environment.get("torch"), "started": started.isoformat(timespec="seconds"),
              "finished": finished.isoformat(timespec="seconds"),
              "minutes": round((finished - started).total_seconds() / 60, 2),
              "notebooks_ok": statuses.count("ok"), "notebooks_failed": len(statuses) - statuses.count("ok"),
              "notebooks": [getattr(r, "notebook", "?") for r in results], "metrics": copied}
    atomic_write_json(out_dir / BUNDLE_FILE, bundle)
    return bundle


@dataclass
class Bundle:
    """One bundle as read back: its folder, where it came from, its description and its metrics (by task)."""

    path: Path
    source: str
    profile: str
    machine: str
    time: str
    info: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def config(self) -> str:
        """``profile @ machine``: bundles sharing it are repeats of one configuration."""
        return f"{self.profile} @ {self.machine}"

    @property
    def label(self) -> str:
        return f"{self.config} #{self.time}"


def _read(path: Path, problems: list[str]) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        problems.append(f"{path.name}: unreadable ({type(err).__name__})")
        return None


def load_bundle(folder: Path, source: str = "runs") -> Bundle:
    """Read one bundle folder; whatever is missing or unreadable is left out and named in ``problems``."""
    problems: list[str] = []
    info = _read(folder / BUNDLE_FILE, problems) or {}
    summary = _read(folder / SUMMARY_FILE, problems) or {}
    environment = _read(folder / ENVIRONMENT_FILE, problems) or {}
    if not isinstance(info, dict) or not isinstance(summary, dict) or not isinstance(environment, dict):
        problems.append("bundle files are not JSON objects")
        info, summary, environment = {}, {}, {}
    profile = str(info.get("profile") or summary.get("profile") or folder.parent.name)
    if not info and summary:  # a run folder from before bundles: only the notebook summary
        notebooks = summary.get("notebooks") or []
        statuses = [n.get("status") for n in notebooks if isinstance(n, dict)]
        info = {"notebooks_ok": statuses.count("ok"), "notebooks_failed": len(statuses) - statuses.count("ok"),
                "minutes": round(sum(float(n.get("seconds") or 0) for n in notebooks if isinstance(n, dict)) / 60, 2)}
    machine = str(info.get("machine") or (machine_label(environment) if environment else "")
                  or (folder.parent.parent.name if source == "reports" else "unknown"))
    metrics: dict[str, Any] = {}
    # a file an earlier run wrote (e.g. `--only 07` copies 02's figures along) would count that run twice
    stale = {m.get("file") for m in info.get("metrics") or [] if isinstance(m, dict) and m.get("this_run") is False}
    for task in TASKS:
        name = f"{task}_{profile}.json"
        if name in stale:
            problems.append(f"{name}: written before this run, left out (it belongs to an earlier bundle)")
            continue
        data = _read(folder / METRICS_DIR / name, problems)
        if isinstance(data, dict):
            metrics[task] = data
    return Bundle(folder, source, profile, machine, folder.name, info, environment, metrics, problems)


def find_bundles(runs: Path | None = None, reports: Path | None = REPORTS) -> list[Bundle]:
    """Every bundle under ``runs`` (``<profile>/<stamp>/``) and ``reports`` (``<machine>/<profile>/<stamp>/``).

    A run found in both (exported and still in ``runs``) counts once.
    """
    runs = paths.RUNS if runs is None else runs
    found = []
    for root, depth, source in ((runs, 2, "runs"), (reports, 3, "reports")):
        if root is None or not root.is_dir():
            continue
        for folder in sorted(root.glob("/".join(["*"] * depth))):
            if folder.is_dir() and ((folder / BUNDLE_FILE).is_file() or (folder / SUMMARY_FILE).is_file()):
                found.append(load_bundle(folder, source))
    unique: dict[tuple[str, str, str], Bundle] = {}
    for bundle in found:  # an exported bundle still in saved/runs is one run, not two
        unique.setdefault((bundle.profile, bundle.machine, bundle.time), bundle)
    return sorted(unique.values(), key=lambda b: (b.profile, b.machine, b.time))


def live_bundle(profile: str, metrics_dir: Path | None = None) -> Bundle | None:
    """The current ``saved/metrics/*_<profile>.json`` as a pseudo-bundle (no run folder), or None when absent."""
    files = metrics_files(profile, metrics_dir)
    if not files:
        return None
    problems: list[str] = []
    metrics = {p.name.split("_", 1)[0]: _read(p, problems) for p in files}
    metrics = {k: v for k, v in metrics.items() if isinstance(v, dict) and k in TASKS}
    environment = (metrics.get("environment") or {}).get("machine") or {}
    return Bundle(files[0].parent, "live", profile, machine_label(environment) if environment else "this machine",
                  "live", {}, environment, metrics, problems)


def bundle_table(bundles: list[Bundle]) -> list[dict[str, Any]]:
    """One row per bundle: what ``lib.run --list`` prints and 07 shows first."""
    rows = []
    for b in bundles:
        rows.append({"profile": b.profile, "time": b.time, "machine": b.machine, "source": b.source,
                     "kernel": b.info.get("kernel", ""), "ok": b.info.get("notebooks_ok", "?"),
                     "failed": b.info.get("notebooks_failed", "?"), "minutes": b.info.get("minutes", "?"),
                     "metrics": " ".join(t for t in TASKS if t in b.metrics) or "none",
                     "problems": "; ".join(b.problems)})
    return rows


def format_table(rows: list[dict[str, Any]], columns: tuple[str, ...] = ("profile", "time", "machine", "source", "ok",
                                                                        "failed", "minutes", "metrics")) -> str:
    """A plain fixed-width text table (no pandas: ``lib.run --list`` stays light)."""
    if not rows:
        return "no bundles"
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def export_bundle(folder: Path, reports: Path = REPORTS) -> Path:
    """Copy a bundle's JSON and Markdown (no notebooks, no weights) to ``reports/<machine>/<profile>/<stamp>/``."""
    bundle = load_bundle(folder)
    target = reports / bundle.machine / bundle.profile / folder.name
    if target.exists():
        raise FileExistsError(f"{target} exists; remove it first to export again")
    target.mkdir(parents=True)
    for source in sorted(folder.rglob("*")):
        if source.is_file() and source.suffix in (".json", ".md"):
            destination = target / source.relative_to(folder)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(anonymised(source.read_text()))
    return target


def anonymised(text: str) -> str:
    """A bundle file fit to commit: paths inside this checkout made relative to it, host names left out."""
    root = str(paths.ROOT)
    text = text.replace(root + "/", "").replace(root, ".")
    return re.sub(r'"hostname": "[^"]*"', '"hostname": null', text)
