"""The logs a training run writes (``steps.csv``, ``metrics.csv``): appending, truncating on resume, reading."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd

from lib.io import atomic_write_bytes


def read_run_logs(out: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(steps, epochs)`` tables of a run folder, with a clear error when the run never started."""
    out = Path(out)
    steps_file, epochs_file = out / "steps.csv", out / "metrics.csv"
    for path in (steps_file, epochs_file):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: train first (notebook 02 or python -m lib.train --out {out})")
    return pd.read_csv(steps_file), pd.read_csv(epochs_file)


def append_csv(path: Path, fields: list[str], row: dict[str, Any]) -> None:
    new = not path.is_file()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        if new:
            writer.writeheader()
        writer.writerow(row)
        handle.flush()


def truncate_csv(path: Path, last_step: int) -> None:
    """Drop rows logged after ``last_step`` (a crash between checkpoints), so a resumed log has no duplicates."""
    if not path.is_file():
        return
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames or [], [r for r in reader if int(r["step"]) <= last_step]
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buffer.getvalue().encode())
