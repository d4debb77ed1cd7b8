"""The papermill driver: notebook discovery, selection and clear errors."""

from __future__ import annotations

import pytest

from lib.run import describe_failure, discover_notebooks, main


def test_only_selects_by_number_or_name() -> None:
    assert [p.name[:2] for p in discover_notebooks(["00"])] == ["00"]
    assert [p.name for p in discover_notebooks(["00_environment"])] == ["00_environment.ipynb"]


def test_only_unknown_notebook_is_an_error() -> None:
    with pytest.raises(SystemExit, match=r"no notebook matches \['99'\]"):
        discover_notebooks(["99"])


def test_unknown_profile_fails_before_running(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--profile", "nope", "--only", "00"])
    assert "unknown profile 'nope'" in capsys.readouterr().err


def test_describe_failure_names_the_cell() -> None:
    class FakePapermillError(Exception):
        exec_count, ename, evalue = 7, "AssertionError", "mIoU too low"

    assert describe_failure(FakePapermillError()) == "cell 7: AssertionError: mIoU too low"
