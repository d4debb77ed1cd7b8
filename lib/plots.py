"""Matplotlib figures shared by the notebooks (segmentation grids, per-class bars)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def image_grid(rows: Sequence[Sequence[np.ndarray]], column_titles: Sequence[str], scale: float = 3.0) -> Figure:
    """A grid of RGB images: one row per sample, one column per view (image, labels, prediction, ...)."""
    n_rows, n_cols = len(rows), len(column_titles)
    height, width = rows[0][0].shape[:2]
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(scale * n_cols * width / height, scale * n_rows), squeeze=False, layout="constrained"
    )
    for r, row in enumerate(rows):
        for c, picture in enumerate(row):
            axes[r, c].imshow(picture, interpolation="nearest")
            axes[r, c].set_axis_off()
            if r == 0:
                axes[r, c].set_title(column_titles[c])
    return fig


def class_bars(table: pd.DataFrame, title: str, ylabel: str, colors: np.ndarray | None = None, log: bool = False) -> Figure:
    """Grouped bars: one group per class (index), one bar per column; official colours for a single column."""
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(table) * max(1, len(table.columns))), 3.6),
                           layout="constrained")
    if len(table.columns) == 1 and colors is not None:
        ax.bar(table.index, table.iloc[:, 0], color=colors / 255.0, edgecolor="black", linewidth=0.4)
    else:
        table.plot.bar(ax=ax, width=0.8)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.tick_params(axis="x", rotation=60)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.grid(axis="y", alpha=0.3)
    return fig


def pareto_plot(ran: pd.DataFrame, size: tuple[int, int], data_label: str) -> Figure:
    """Latency (log) vs mIoU per deployment path, one panel per model; the line joins the Pareto-optimal paths
    (no other path both faster and at least as accurate); vertical bars are the paired 95 % intervals of the
    mIoU change against FP32 eager, drawn around each path's mIoU."""
    groups = list(ran.groupby("model", sort=False))
    fig, axes = plt.subplots(1, len(groups), figsize=(6 * len(groups), 4), layout="constrained", squeeze=False)
    for ax, (name, group) in zip(axes[0], groups, strict=True):
        group = group.sort_values("latency_ms_median")
        front = group[group["miou"] > group["miou"].cummax().shift(fill_value=-np.inf)]
        ax.plot(front["latency_ms_median"], front["miou"], color="0.6", zorder=0, label="Pareto front")
        for row in group.itertuples():
            low = row.miou - (row.delta_miou - row.delta_miou_low) if pd.notna(row.delta_miou_low) else row.miou
            high = row.miou + (row.delta_miou_high - row.delta_miou) if pd.notna(row.delta_miou_high) else row.miou
            ax.errorbar(row.latency_ms_median, row.miou, yerr=[[row.miou - low], [high - row.miou]],
                        fmt="s" if row.int8 else "o", capsize=3)
            ax.annotate(row.backend, (row.latency_ms_median, row.miou), textcoords="offset points", xytext=(4, 4),
                        fontsize=8)
        ax.set(xscale="log", xlabel=f"latency ms, batch 1, {size[0]}×{size[1]} (log)", ylabel="mIoU",
               title=f"{name} ({data_label})")
        ax.grid(alpha=0.3, which="both")
        ax.legend(loc="lower right")
    return fig
