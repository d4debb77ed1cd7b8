"""``python -m lib.data.synthcity --out DIR --train N --val M``: generate the street-scene dataset."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lib.data.synthcity.render import generate_dataset


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m lib.data.synthcity --out DIR --train N --val M``."""
    from lib import paths

    ap = argparse.ArgumentParser(description="Generate the synthetic Cityscapes-format street-scene dataset.")
    ap.add_argument("--out", type=Path, default=paths.SYNTHETIC_CITYSCAPES, help="dataset root")
    ap.add_argument("--train", type=int, default=400, help="number of training images")
    ap.add_argument("--val", type=int, default=100, help="number of validation images")
    ap.add_argument("--height", type=int, default=512)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None, help="processes (default: min(2, CPU count))")
    ap.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = ap.parse_args(argv)
    summary = generate_dataset(args.out, args.train, args.val, args.height, args.width, args.seed, args.workers,
                               progress=not args.no_progress)
    print(json.dumps(summary, indent=2))
    return 0
