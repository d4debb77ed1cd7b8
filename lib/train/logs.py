"""Read the logs a training run writes (``steps.csv``, ``metrics.csv``) for plots and tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_run_logs(out: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(steps, epochs)`` tables of a run folder, with a clear error when the run never started."""
    out = Path(out)
    steps_file, epochs_file = out / "steps.csv", out / "metrics.csv"
    for path in (steps_file, epochs_file):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: train first (notebook 02 or python -m lib.train --out {out})")
    return pd.read_csv(steps_file), pd.read_csv(epochs_file)
