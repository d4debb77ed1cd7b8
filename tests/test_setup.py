"""Repository set-up: pins agree across files, paths do not depend on the working directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from lib import paths


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = re.match(r"^\s*([A-Za-z0-9_.\-\[\]]+)==([^\s#]+)", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_environment_yml_pins_match_requirements() -> None:
    requirements = pins((paths.ROOT / "requirements.txt").read_text().splitlines())
    environment = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert pins(pip_section) == requirements
    assert "-e ." in pip_section
    assert "python=3.11" in environment["dependencies"]


def test_torch_is_pinned_exactly() -> None:
    requirements = pins((paths.ROOT / "requirements.txt").read_text().splitlines())
    assert requirements["torch"] == "2.14.1" and requirements["torchvision"] == "0.29.1"


def test_every_unconditional_requirement_is_pinned() -> None:
    for line in (paths.ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line, f"requirements.txt: {line!r} is not pinned"


def test_paths_do_not_depend_on_cwd(tmp_path: Path) -> None:
    code = "from lib import paths; print(paths.ROOT, paths.SAVED, paths.DATA, sep='|')"
    env = {**os.environ, "EVN_SAVED": str(tmp_path / "elsewhere")}
    env.pop("EVN_DATA", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    root, saved, data = out.stdout.strip().split("|")
    assert Path(root) == paths.ROOT
    assert Path(saved) == tmp_path / "elsewhere"
    assert Path(data) == paths.ROOT / "data"


def test_data_and_saved_keep_only_readme_in_git() -> None:
    ignore = (paths.ROOT / ".gitignore").read_text()
    for folder in ("data", "saved"):
        assert (paths.ROOT / folder / "README.md").is_file() and (paths.ROOT / folder / ".gitkeep").is_file()
        assert f"/{folder}/*" in ignore and f"!/{folder}/README.md" in ignore
