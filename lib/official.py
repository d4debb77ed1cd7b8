"""The official Cityscapes results format and evaluator (``cityscapesscripts``), for checking our scores.

:func:`write_official_prediction` writes a train-id prediction as the label-id PNG the official evaluator reads;
:func:`evaluate_with_cityscapesscripts` runs that evaluator in-process. ``lib.metrics`` stays pure scores.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from lib.data.labels import ClassSet
from lib.io import atomic_write_bytes


def write_official_prediction(
    pred_train_ids: np.ndarray | torch.Tensor,
    class_set: ClassSet,
    out_path: str | os.PathLike,
    expected_size: tuple[int, int] | None = None,
) -> Path:
    """Write an ``H×W`` train-id prediction as the official results format: label ids, uint8 PNG.

    The official evaluator wants label ids (``class_set.train_to_id_lut()``) at full ground-truth
    resolution; pass ``expected_size=(H, W)`` of the ground truth to catch a forgotten upsampling.
    """
    pred = np.asarray(pred_train_ids.cpu() if isinstance(pred_train_ids, torch.Tensor) else pred_train_ids)
    if pred.ndim != 2:
        raise ValueError(f"expected an H×W prediction, got shape {pred.shape}")
    if expected_size is not None and tuple(pred.shape) != tuple(expected_size):
        raise ValueError(
            f"prediction is {pred.shape[0]}×{pred.shape[1]}, ground truth is {expected_size[0]}×{expected_size[1]}"
        )
    if pred.size and (pred.min() < 0 or pred.max() >= class_set.num_classes):
        raise ValueError(
            f"prediction values must be train ids 0..{class_set.num_classes - 1}, got {pred.min()}..{pred.max()}"
        )
    label_ids = class_set.train_to_id_lut()[pred.astype(np.intp)]
    buffer = io.BytesIO()
    Image.fromarray(label_ids.astype(np.uint8)).save(buffer, format="PNG")  # uint8 2-D array → mode "L"
    return atomic_write_bytes(out_path, buffer.getvalue())


def evaluate_with_cityscapesscripts(
    pred_paths: Sequence[str | os.PathLike], gt_paths: Sequence[str | os.PathLike]
) -> dict[str, Any]:
    """Score label-id prediction PNGs against ``*_gtFine_labelIds.png`` with the official evaluator, in-process.

    Returns ``{"iou": {class name: IoU}, "miou": mean, "matrix": label-id confusion matrix}`` for the 19
    evaluated classes (NaN where a class is neither in the ground truth nor predicted; the mean skips NaN).
    Runs on a copy of the module-global ``args`` (which ``evaluateImgLists`` takes as a parameter), so the
    module's settings are untouched. Instance-level scores are off (they crash on NumPy >= 2.4) and so is
    its pixel accuracy (it counts the wrong pixels; use :meth:`lib.metrics.ConfusionMatrix.pixel_accuracy`).
    """
    if len(pred_paths) != len(gt_paths):
        raise ValueError(f"{len(pred_paths)} predictions for {len(gt_paths)} ground-truth files")
    # Imported lazily: the module reads CITYSCAPES_DATASET / CITYSCAPES_RESULTS at import time.
    from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as official
    from cityscapesscripts.helpers.labels import id2label

    args = copy.copy(official.args)
    args.quiet = True
    args.JSONOutput = False
    args.evalInstLevelScore = False
    args.evalPixelAccuracy = False
    args.colorized = False
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured):
            result = official.evaluateImgLists([str(p) for p in pred_paths], [str(p) for p in gt_paths], args)
    except SystemExit:  # its printError() prints and calls sys.exit
        raise RuntimeError(f"cityscapesscripts evaluation failed: {captured.getvalue().strip()}") from None
    evaluated = {id2label[i].name for i in args.evalLabels if not id2label[i].ignoreInEval}
    iou = {name: float(score) for name, score in result["classScores"].items() if name in evaluated}
    return {"iou": iou, "miou": float(result["averageScoreClasses"]), "matrix": result["confMatrix"]}
