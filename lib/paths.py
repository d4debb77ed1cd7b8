"""Project paths, built from this file's location and never from the current directory.

JupyterLab, nbval and papermill each start the kernel in a different folder, so every
path is derived from ``__file__``. ``EVN_DATA`` and ``EVN_SAVED`` move the (large, git-ignored)
data and results folders elsewhere, e.g. to a scratch disk.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT: Path = Path(__file__).resolve().parent.parent
NOTEBOOKS: Path = ROOT / "notebooks"
PROFILES: Path = NOTEBOOKS / "profiles"
DATA: Path = Path(os.environ.get("EVN_DATA", ROOT / "data")).resolve()
SAVED: Path = Path(os.environ.get("EVN_SAVED", ROOT / "saved")).resolve()

SYNTHETIC_CITYSCAPES: Path = DATA / "synthcity"
"""Where the embedded, procedurally generated Cityscapes-format dataset is written."""
SYNTHETIC_CROWD: Path = DATA / "crowdsynth"
"""Where the embedded, procedurally generated crowd-counting dataset (NWPU-Crowd layout) is written."""

RUNS: Path = SAVED / "runs"
METRICS: Path = SAVED / "metrics"
ENV_REPORTS: Path = SAVED / "env"
CHECKPOINTS: Path = SAVED / "checkpoints"
QUANTIZED: Path = SAVED / "quantized"


def cityscapes_root() -> Path | None:
    """Return the real Cityscapes root if one is present, else ``None``.

    Looked up in ``$CITYSCAPES_DATASET`` first (the variable cityscapesscripts itself uses),
    then ``data/cityscapes``. A folder counts only if it holds ``leftImg8bit`` and ``gtFine``.
    """
    candidates = []
    if os.environ.get("CITYSCAPES_DATASET"):
        candidates.append(Path(os.environ["CITYSCAPES_DATASET"]))
    candidates.append(DATA / "cityscapes")
    for root in candidates:
        if (root / "leftImg8bit").is_dir() and (root / "gtFine").is_dir():
            return root.resolve()
    return None
