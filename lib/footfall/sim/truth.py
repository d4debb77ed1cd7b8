"""Ground truth of a simulated sequence: boxes with visibility, crossing events, visits, identities.

A person enters when their centre crosses the door line and then gets ``COMMIT_M`` metres into the
store (leaves: the same the other way). The event's frame is the frame at which the centre was first on
the new side, for the last crossing before that. Swaying on the threshold or turning back at the door is
therefore no event, and every visit opens with exactly one entry and closes with at most one exit.
Everyone starts outside, so ``ins - outs`` is the number of people inside after the last frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lib.footfall.sim.behaviours import Agent
from lib.footfall.sim.layout import Layout
from lib.footfall.sim.people import PERSON_PARTS, is_front, person_box
from lib.footfall.sim.poses import fill_part, frame_poses, occluder_part
from lib.footfall.tracks import CrossingEvent, Tracks

COMMIT_M = 0.6
MIN_IN_FRAME = 0.25  # a box is annotated while at least this share of it is inside the frame


@dataclass(frozen=True)
class Visit:
    """One stay in the store; ``exit_frame`` is None when the sequence ends first."""

    identity: int
    entry_frame: int
    exit_frame: int | None


@dataclass(frozen=True)
class Identity:
    """One person of the sequence, with what they did and how many visits they made."""

    id: int
    role: str
    behaviour: str
    visits: int
    appearance: dict


@dataclass(frozen=True)
class Truth:
    """Everything a sequence's files hold besides its images; ``front`` is per box row."""

    boxes: Tracks
    front: np.ndarray
    events: list[CrossingEvent]
    visits: list[Visit]
    identities: list[Identity]
    n_frames: int

    @property
    def occupancy(self) -> int:
        """People inside after the last frame (visits without an exit)."""
        return sum(v.exit_frame is None for v in self.visits)


def crossing_events(agent: Agent, layout: Layout, commit: float = COMMIT_M) -> list[CrossingEvent]:
    """The agent's committed crossings of the door line (frames are 1-based)."""
    depth = agent.xy[:, 1] - layout.wall_y
    side, last_flip, above, events = False, None, None, []
    for k, d in enumerate(depth.tolist()):
        if np.isnan(d):
            continue
        if above is not None and (d > 0) != above:
            last_flip = k
        above = d > 0
        if (not side and d > commit) or (side and d < -commit):
            side = not side
            frame = agent.start + (last_flip if last_flip is not None else k) + 1
            events.append(CrossingEvent(frame, agent.id, "in" if side else "out"))
    return events


def visits_from_events(events: list[CrossingEvent]) -> list[Visit]:
    """Pair each identity's entries with the exit that follows."""
    visits, open_ = [], {}
    for e in sorted(events, key=lambda e: (e.frame, e.track_id)):
        if e.direction == "in":
            open_[e.track_id] = e.frame
        elif e.track_id in open_:
            visits.append(Visit(e.track_id, open_.pop(e.track_id), e.frame))
    visits += [Visit(i, f, None) for i, f in open_.items()]
    return sorted(visits, key=lambda v: (v.entry_frame, v.identity))


def annotate(agents: list[Agent], layout: Layout, n_frames: int, shake: np.ndarray) -> Truth:
    """Boxes, visibility and orientation per frame, then events, visits and identities."""
    rows, front = [], []
    w, h = layout.width, layout.height
    for f, poses in enumerate(frame_poses(agents, layout, n_frames, shake)):
        labels = np.zeros((h, w), np.uint16)
        for n, pose in enumerate(poses, start=1):
            for part in pose.parts:
                if part.name in PERSON_PARTS:
                    fill_part(labels, part, n)
        for o in layout.occluders:
            fill_part(labels, occluder_part(o, layout, shake[f]), 0)
        visible = np.bincount(labels.ravel(), minlength=len(poses) + 1)
        for n, pose in enumerate(poses, start=1):
            x0, y0, x1, y1 = person_box(pose.parts)
            cx0, cy0, cx1, cy1 = max(x0, 0.0), max(y0, 0.0), min(x1, float(w)), min(y1, float(h))
            if cx1 - cx0 < 2 or cy1 - cy0 < 2 or (cx1 - cx0) * (cy1 - cy0) < MIN_IN_FRAME * (x1 - x0) * (y1 - y0):
                continue
            vis = visible[n] / max(_solo_area(pose.parts, x0, y0, x1, y1), 1)
            rows.append((f + 1, agents[pose.agent].id, cx0, cy0, cx1 - cx0, cy1 - cy0, min(vis, 1.0)))
            front.append(is_front(pose.heading))
    table = np.asarray(rows, np.float64).reshape(-1, 7)
    boxes = Tracks.from_arrays(table[:, 0], table[:, 1], table[:, 2:6], visibility=table[:, 6])
    events = sorted((e for a in agents for e in crossing_events(a, layout)), key=lambda e: (e.frame, e.track_id))
    visits = visits_from_events(events)
    per_id = {a.id: 0 for a in agents}
    for v in visits:
        per_id[v.identity] += 1
    identities = [Identity(a.id, a.role, a.behaviour, per_id[a.id], a.appearance.to_dict()) for a in agents]
    return Truth(boxes, np.asarray(front, bool), events, visits, identities, n_frames)


def _solo_area(parts: list, x0: float, y0: float, x1: float, y1: float) -> int:
    """Pixels the person covers when nothing hides them and the frame does not cut them."""
    ox, oy = int(np.floor(x0)) - 1, int(np.floor(y0)) - 1
    patch = np.zeros((int(np.ceil(y1)) - oy + 2, int(np.ceil(x1)) - ox + 2), np.uint8)
    for part in parts:
        if part.name in PERSON_PARTS:
            fill_part(patch, part, 1, (ox, oy))
    return int(patch.sum())
