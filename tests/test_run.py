"""The papermill driver: notebook discovery, selection and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.run import describe_failure, discover_notebooks, main, run_notebook


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


def test_a_run_starts_its_kernel_without_the_plain_tcp_warning(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    zmq = pytest.importorskip("zmq")
    if not zmq.has("curve"):
        pytest.skip("this pyzmq has no CurveZMQ: the kernel's sockets stay plain TCP and it warns")
    import nbformat

    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                 "language": "python"}})
    notebook.cells = [nbformat.v4.new_code_cell('PROFILE = "smoke"', metadata={"tags": ["parameters"]}),
                      nbformat.v4.new_code_cell("print(PROFILE)")]
    nbformat.write(notebook, tmp_path / "00_trivial.ipynb")
    run_notebook(tmp_path / "00_trivial.ipynb", tmp_path / "out.ipynb", "cpu", kernel_name="python3")
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "cpu\n"
    err = capfd.readouterr().err
    assert "without encryption" not in err, err
