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
