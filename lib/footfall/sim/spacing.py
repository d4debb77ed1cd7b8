"""People keep their distance: a sidestep pass over the scripted paths, so that no two walk through each other.

Each script draws one person's path on its own; two people crossing the door at the same lateral position, one
in and one out, or a fast walker behind a slow one, would pass through each other's bodies. Seen from above
that is one blob no detector can split and no real doorway shows: adults keep their centres about half a metre
apart and step aside to pass. Frame by frame (causal: a longer sequence starts like the shorter one), each
pair whose predicted separation within ``lookahead_s`` falls under ``gap_m`` is pushed apart, sideways to
their relative motion when they approach (a sidestep, not a stop), by at most ``max_speed`` per person; the
offset from the scripted path then fades (``recover_s``). People side by side in a group walk 0.5 m apart
and are left alone. In the door gap a sidestep never takes anyone into the jambs.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from lib.footfall.sim.behaviours import Agent
from lib.footfall.sim.layout import Layout

GAP_M = 0.45
"""Closest centre-to-centre distance (metres) that two people keep: shoulder to shoulder, seen from above."""


def _positions(agents: list[Agent], frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of the people in view at ``frame``, their scripted positions and per-frame velocities."""
    idx, pos, vel = [], [], []
    for i, a in enumerate(agents):
        k = frame - a.start
        if 0 <= k < len(a.xy) and not np.isnan(a.xy[k, 0]):
            idx.append(i)
            pos.append(a.xy[k])
            prev = a.xy[k - 1] if k > 0 else a.xy[k]
            vel.append(a.xy[k] - prev if not np.isnan(prev[0]) else np.zeros(2))
    return np.asarray(idx, np.int64), np.asarray(pos, np.float64).reshape(-1, 2), np.asarray(vel, np.float64).reshape(-1, 2)


def _pushes(pos: np.ndarray, vel: np.ndarray, gap: float, lookahead: float) -> np.ndarray:
    """``(N, 2)`` displacement per person that would bring each too-close pair back to ``gap`` (half each)."""
    n = len(pos)
    push = np.zeros((n, 2))
    if n < 2:
        return push
    i, j = np.triu_indices(n, 1)
    d, dv = pos[i] - pos[j], vel[i] - vel[j]
    speed2 = np.einsum("ij,ij->i", dv, dv)
    moving = speed2 >= 1e-12
    tau = np.where(moving, np.clip(-np.einsum("ij,ij->i", d, dv) / np.where(moving, speed2, 1.0), 0.0, lookahead), 0.0)
    ahead = d + tau[:, None] * dv
    dist = np.hypot(*ahead.T)
    close = dist < gap
    if not close.any():
        return push
    i, j, ahead, dist, dv, speed2, moving = (a[close] for a in (i, j, ahead, dist, dv, speed2, moving))
    # approaching: step aside, across the relative motion; head on (nothing across): each to their right
    along = dv / np.sqrt(np.where(moving, speed2, 1.0))[:, None]
    across = ahead - np.einsum("ij,ij->i", ahead, along)[:, None] * along
    head_on = np.hypot(*across.T) < 1e-3
    across[head_on] = np.stack([-along[head_on, 1], along[head_on, 0]], 1)
    # standing or walking together: straight apart
    still = ~moving
    across[still] = np.where((dist[still] > 1e-6)[:, None], ahead[still], [1.0, 0.0])
    direction = across / np.hypot(*across.T)[:, None]
    amount = ((gap - dist) / 2)[:, None] * direction
    np.add.at(push, i, amount)
    np.add.at(push, j, -amount)
    return push


def _inside_door_gap(x: np.ndarray, y: np.ndarray, layout: Layout, margin: float = 0.2) -> np.ndarray:
    """Where a person at ``(x, y)`` is level with the wall, ``x`` kept ``margin`` clear of the door's jambs."""
    level = np.abs(y - layout.wall_y) <= layout.wall_thickness / 2 + 0.15
    return np.where(level, np.clip(x, layout.door_x0 + margin, layout.door_x1 - margin), x)


def keep_apart(agents: list[Agent], layout: Layout, fps: float, n_frames: int, gap_m: float = GAP_M,
               lookahead_s: float = 0.5, max_speed: float = 0.6, recover_s: float = 1.0) -> list[Agent]:
    """The same people with their paths nudged so that nobody walks through anybody (module docstring).

    ``max_speed`` (m/s): how fast a sidestep moves a person off their path; ``recover_s``: time constant with
    which the offset fades once the way is clear. Headings (the way people face) are kept."""
    offsets = [np.zeros_like(a.xy) for a in agents]
    current = np.zeros((len(agents), 2))
    decay = math.exp(-1.0 / (recover_s * fps))  # scalar libm: the same bits on every CPU
    step_cap = max_speed / fps
    for frame in range(n_frames):
        idx, scripted, vel = _positions(agents, frame)
        present = np.zeros(len(agents), bool)
        present[idx] = True
        current[~present] = 0.0  # out of view: back on the scripted path when seen again
        if len(idx) == 0:
            continue
        current[idx] *= decay
        pos = scripted + current[idx]
        push = _pushes(pos, vel, gap_m, lookahead_s * fps)
        length = np.hypot(*push.T)
        push *= np.minimum(1.0, step_cap / np.maximum(length, 1e-12))[:, None]
        moved = pos + push
        # the jambs hold back only people whose scripted path goes between them (pavement and store are open)
        between = (scripted[:, 0] >= layout.door_x0) & (scripted[:, 0] <= layout.door_x1)
        moved[between, 0] = _inside_door_gap(moved[between, 0], scripted[between, 1], layout)
        current[idx] = moved - scripted
        for i in idx.tolist():
            offsets[i][frame - agents[i].start] = current[i]
    return [replace(a, xy=a.xy + o) for a, o in zip(agents, offsets, strict=True)]
