"""A training run's folder: one run at a time, never silently replaced.

- ``run_lock(out)`` holds an exclusive lock on ``out/train.lock`` while training; a second process training
  into the same folder is refused at once (the lock dies with its process, so a killed run leaves no stale lock).
- ``claim_run_folder(out, resume, overwrite)`` decides what happens to what is already there: resume from
  ``last.pt``, refuse, or (``overwrite``) move the previous run aside into ``out/previous-runs/<time>/``.
- ``remove_orphaned_temp_files(out)`` deletes the temporary files an interrupted atomic write leaves behind.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "train.lock"
PREVIOUS_RUNS = "previous-runs"
KEEP_PREVIOUS = 3
"""Previous runs kept aside per folder; older ones are deleted when a newer one is moved there."""


class RunFolderError(RuntimeError):
    """The output folder is in use or holds a run that would be lost; the message says what to do."""


@contextmanager
def run_lock(out: Path) -> Iterator[None]:
    """Hold ``out/train.lock`` exclusively for the duration of the block."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_FILE
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunFolderError(
                f"{out} is being trained into by {holder}; wait for it to finish or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


def _run_entries(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.name not in (LOCK_FILE, PREVIOUS_RUNS) and not _is_orphan(p))


def _is_orphan(path: Path) -> bool:
    """``lib.io.atomic_write_bytes`` writes ``.<name>.<random>.tmp`` beside its target."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


def remove_orphaned_temp_files(out: Path) -> int:
    """Delete temporary files left by writes that were killed midway (call while holding the lock)."""
    orphans = [p for p in out.iterdir() if p.is_file() and _is_orphan(p)] if out.is_dir() else []
    for path in orphans:
        path.unlink(missing_ok=True)
    return len(orphans)


def claim_run_folder(out: Path, resume: bool, overwrite: bool) -> Path | None:
    """Make ``out`` ready for a run; return where a previous run was moved, if one was.

    Empty folder: start. ``overwrite``: move the previous run to ``out/previous-runs/<time>/`` and start.
    ``resume`` with ``last.pt`` present: continue it. Anything else in a non-empty folder is refused.
    """
    entries = _run_entries(out) if out.is_dir() else []
    if not entries:
        return None
    if overwrite:
        return _move_aside(out, entries)
    if resume and (out / "last.pt").is_file():
        return None
    names = ", ".join(p.name for p in entries[:6])
    reason = "resuming was turned off" if resume is False and (out / "last.pt").is_file() else "it has no last.pt to resume from"
    raise RunFolderError(
        f"{out} already holds a run ({names}) and {reason}. Pass --overwrite to start again (the previous run is "
        f"moved to {out / PREVIOUS_RUNS}/<time>/), resume it, or choose another --out."
    )


def _move_aside(out: Path, entries: list[Path]) -> Path:
    target = out / PREVIOUS_RUNS / time.strftime("%Y%m%d-%H%M%S")
    while target.exists():  # two restarts within one second
        target = target.with_name(target.name + "+")
    target.mkdir(parents=True)
    for path in entries:
        path.rename(target / path.name)
    kept = sorted(p for p in (out / PREVIOUS_RUNS).iterdir() if p.is_dir())
    for old in kept[:-KEEP_PREVIOUS]:
        shutil.rmtree(old)
    return target
