"""Figures of notebook 05: annotated images, loss curves, count scatter, density maps, the speed/accuracy Pareto plot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lib.data.cityscapes import denormalize


def _rgb(image) -> np.ndarray:
    """A normalised ``3×H×W`` tensor back to ``H×W×3`` uint8."""
    return denormalize(image)


def points_and_density(images: Sequence, points: Sequence[np.ndarray], densities: Sequence, label: str) -> Figure:
    """One row per image: the image with its head points, and its density target (count in the title)."""
    fig, axes = plt.subplots(len(images), 2, figsize=(9, 3.2 * len(images)), squeeze=False, layout="constrained")
    for row, (image, pts, density) in enumerate(zip(images, points, densities, strict=True)):
        axes[row, 0].imshow(_rgb(image))
        axes[row, 0].scatter(pts[:, 0], pts[:, 1], s=3, c="red")
        axes[row, 0].set_title(f"{len(pts)} heads ({label})")
        axes[row, 1].imshow(np.asarray(density).squeeze(), cmap="magma")
        axes[row, 1].set_title(f"density target, stride 8: sum {float(np.asarray(density).sum()):.1f}")
    for ax in axes.flat:
        ax.axis("off")
    return fig


def loss_curves(losses: Mapping[str, Sequence[float]]) -> Figure:
    """Training loss per step (log scale, smoothed) of each counter."""
    fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
    for name, values in losses.items():
        series = pd.Series(values)
        ax.plot(series.rolling(max(1, len(series) // 20), min_periods=1).mean(), label=name)
    ax.set(yscale="log", xlabel="step", ylabel="loss (pixel MSE on density)", title="training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def count_scatter(gt: np.ndarray, predictions: Mapping[str, np.ndarray], levels: np.ndarray, label: str) -> Figure:
    """Predicted against true counts, one panel per counter, coloured by density level (NWPU scene levels)."""
    fig, axes = plt.subplots(1, len(predictions), figsize=(4.2 * len(predictions), 4), squeeze=False,
                             layout="constrained")
    top = max(float(gt.max()), *(float(p.max()) for p in predictions.values())) * 1.05 + 1
    for ax, (name, pred) in zip(axes[0], predictions.items(), strict=True):
        for level in np.unique(levels):
            chosen = levels == level
            ax.scatter(gt[chosen], pred[chosen], s=18, label=f"level {level}")
        ax.plot([0, top], [0, top], color="grey", lw=1)
        ax.set(xlim=(0, top), ylim=(0, top), xlabel="true count", ylabel="predicted count",
               title=f"{name} ({label})")
        ax.legend(fontsize=8)
    return fig


def density_pairs(images: Sequence, gt_maps: Sequence, pred_maps: Sequence, label: str) -> Figure:
    """Image, true density, predicted density (same colour scale per row), counts in the titles."""
    fig, axes = plt.subplots(len(images), 3, figsize=(12, 3.2 * len(images)), squeeze=False, layout="constrained")
    for row, (image, gt, pred) in enumerate(zip(images, gt_maps, pred_maps, strict=True)):
        gt, pred = np.asarray(gt).squeeze(), np.asarray(pred).squeeze()
        vmax = max(gt.max(), pred.max(), 1e-6)
        axes[row, 0].imshow(_rgb(image))
        axes[row, 0].set_title(label)
        axes[row, 1].imshow(gt, cmap="magma", vmin=0, vmax=vmax)
        axes[row, 1].set_title(f"true density: {gt.sum():.1f}")
        axes[row, 2].imshow(pred, cmap="magma", vmin=0, vmax=vmax)
        axes[row, 2].set_title(f"predicted: {pred.sum():.1f}")
    for ax in axes.flat:
        ax.axis("off")
    return fig


def pareto_plot(table: pd.DataFrame, front: np.ndarray, title: str) -> Figure:
    """MAE against seconds per image (log), one point per variant and calibration; the Pareto front joined."""
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    ax.scatter(table["seconds_per_image"], table["mae"], c=np.where(front, "tab:red", "tab:blue"))
    for (variant, calibration), row in table.iterrows():
        name = variant if calibration == "none" else f"{variant} [{calibration}]"
        ax.annotate(name, (row["seconds_per_image"], row["mae"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    best = table[front].sort_values("seconds_per_image")
    ax.plot(best["seconds_per_image"], best["mae"], color="tab:red", lw=1, label="Pareto front")
    ax.set(xscale="log", xlabel="seconds per image (median)", ylabel="MAE (heads)", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig
