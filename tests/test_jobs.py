"""Cluster job scripts: valid bash, one profile each from $PROFILE, run through lib.run, bundle copied back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lib import paths

JOBS = [paths.ROOT / "jobs" / "pbs_profile.sh", paths.ROOT / "jobs" / "slurm_profile.sh"]


@pytest.mark.parametrize("script", JOBS, ids=lambda p: p.name)
def test_job_script_is_valid_bash_and_runs_one_profile(script: Path) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    assert '${PROFILE:?' in text and 'jobs/run_profile.sh "$PROFILE"' in text
    assert ("#PBS " in text) if "pbs" in script.name else ("#SBATCH " in text)


def test_shared_job_body_runs_the_profile_and_copies_its_bundle() -> None:
    body = paths.ROOT / "jobs" / "run_profile.sh"
    subprocess.run(["bash", "-n", str(body)], check=True)
    text = body.read_text()
    assert 'python" -m lib.run --profile "$PROFILE"' in text and "bundles/$PROFILE" in text


def test_job_script_without_profile_fails_and_says_how(tmp_path: Path) -> None:
    done = subprocess.run(["bash", str(JOBS[0])], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"},
                          cwd=tmp_path)
    assert done.returncode != 0 and "qsub -v PROFILE=cpu" in done.stderr
