"""Every numbered notebook follows the house skeleton (stripped, one literal parameters cell, checks)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from lib import paths
from lib.run import NOTEBOOK_PATTERN, discover_notebooks

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("*.ipynb"))
FORBIDDEN = [r"pip install", r"https?://", r"\burllib\b", r"\brequests\.", r"wget |curl ", r"torch\.hub", r"from_pretrained"]


def test_there_are_notebooks_and_all_are_numbered() -> None:
    assert NOTEBOOKS
    for notebook in NOTEBOOKS:
        assert NOTEBOOK_PATTERN.match(notebook.name), f"{notebook.name}: name it NN_snake_case.ipynb"
    numbers = [n.name[:2] for n in NOTEBOOKS]
    assert len(numbers) == len(set(numbers)), "two notebooks share a number"
    assert [p.name for p in discover_notebooks()] == [n.name for n in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_skeleton(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name"), "kernelspec missing"
    cells = nb.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith(f"# {path.name[:2]} "), "H1 title first"
    assert "Goal" in cells[0].source and "Inputs" in cells[0].source and "Outputs" in cells[0].source

    tagged = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    tree = ast.parse(tagged[0].source)
    for node in tree.body:
        assert isinstance(node, ast.Assign), "parameters cell: assignments only"
        ast.literal_eval(node.value)  # literals only
    assert 'PROFILE = "smoke"' in tagged[0].source

    for cell in cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, "commit notebooks stripped"
            for pattern in FORBIDDEN:
                assert not re.search(pattern, cell.source), f"{pattern!r} in a code cell"

    headings = [c.source.splitlines()[0] for c in cells if c.cell_type == "markdown" and c.source]
    assert "## Checks" in headings, "a '## Checks' section"
    checks_index = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## Checks"))
    assert any("assert " in c.source for c in cells[checks_index:] if c.cell_type == "code")
    assert any(re.match(r"## \d+\. ", h) for h in headings), "numbered sections"


MAX_CELL_LINES = 15


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_logic_lives_in_lib(path: Path) -> None:
    """A code cell orchestrates: at most 15 lines of code, unless it only imports (one import cell per notebook)."""
    code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    import_only = [s for s in code if all(isinstance(n, ast.Import | ast.ImportFrom) for n in ast.parse(s).body)]
    assert len(import_only) <= 1, f"{path.name}: imports belong in one cell"
    for source in code:
        lines = [line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        if source not in import_only:
            assert len(lines) <= MAX_CELL_LINES, f"{path.name}: a cell of {len(lines)} lines; move its logic to lib:\n{source}"
