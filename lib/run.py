"""Run the numbered notebooks in order with papermill, parameterised by a profile.

    python -m lib.run --profile cpu            # every notebook
    python -m lib.run --profile smoke --only 00 01
    python -m lib.run --list                   # the run bundles on this machine and in reports/
    python -m lib.run --export saved/runs/cpu/<timestamp>   # copy a bundle (no notebooks) to reports/

Before the first notebook starts, the profile's kernel, device and precision are checked on this machine
(``lib.hardware.preflight``); a missing one fails at once with what is missing and how to get it.
Executed copies go to ``saved/runs/<profile>/<timestamp>/`` with a summary table, the profile's metrics
files and the machine's description: a run bundle (``lib.bundles``). The run stops at the first failing
notebook and names it and the failing cell.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from lib import paths
from lib.io import atomic_write_bytes, atomic_write_json
from lib.profiles import available_profiles, load_profile

NOTEBOOK_PATTERN = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")


@dataclass
class NotebookResult:
    notebook: str
    status: str
    seconds: float
    output: str
    error: str = ""


def discover_notebooks(only: list[str] | None = None) -> list[Path]:
    """Numbered notebooks in ``notebooks/``, in order; ``only`` keeps those whose number or name matches."""
    notebooks = sorted(p for p in paths.NOTEBOOKS.glob("*.ipynb") if NOTEBOOK_PATTERN.match(p.name))
    if only:
        wanted = set(only)
        chosen = [p for p in notebooks if p.name[:2] in wanted or p.stem in wanted or p.name in wanted]
        missing = wanted - {p.name[:2] for p in chosen} - {p.stem for p in chosen} - {p.name for p in chosen}
        if missing:
            raise SystemExit(f"no notebook matches {sorted(missing)}; available: {[p.name for p in notebooks]}")
        return chosen
    return notebooks


def kernel_config():
    """Kernel-manager settings for a run: the kernel's sockets encrypted with CurveZMQ where pyzmq supports it.

    ipykernel 7 warns at every start that its TCP sockets carry code and outputs in plain text ("Kernel is
    running over TCP without encryption"), once per notebook of a run. jupyter_client 8.10 provisions CurveZMQ
    keys when ``KernelManager.transport_encryption`` is ``"auto"`` and the kernelspec declares
    ``supported_encryption: ["curve"]`` (ipykernel's own kernelspecs do): the traffic is then encrypted and the
    kernel has nothing to warn about. A kernelspec without that declaration keeps plain TCP and its warning.
    """
    import zmq
    from traitlets.config import Config

    config = Config()
    if zmq.has("curve"):
        config.KernelManager.transport_encryption = "auto"
    return config


def run_notebook(notebook: Path, output: Path, profile: str, kernel_name: str | None = None) -> None:
    """Execute one notebook with papermill from the notebooks folder (cwd fixed, paths absolute)."""
    import papermill

    papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters={"PROFILE": profile},
        cwd=str(paths.NOTEBOOKS),
        kernel_name=kernel_name,
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=True,
        config=kernel_config(),  # passed on to nbclient, which hands it to the kernel manager
    )


def describe_failure(err: BaseException) -> str:
    """One line naming the failing cell, for papermill errors; the exception text otherwise."""
    cell = getattr(err, "exec_count", None) or getattr(err, "cell_index", None)
    ename, evalue = getattr(err, "ename", type(err).__name__), getattr(err, "evalue", str(err))
    where = f"cell {cell}: " if cell is not None else ""
    return f"{where}{ename}: {evalue}"


def run_all(profile: str, only: list[str] | None = None, kernel_name: str | None = None) -> list[NotebookResult]:
    """Run the selected notebooks on ``profile``; stop at the first failure."""
    load_profile(profile)  # fail before starting a kernel when the profile is wrong
    notebooks = discover_notebooks(only)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = paths.RUNS / profile / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    results: list[NotebookResult] = []
    for notebook in notebooks:
        output = out_dir / notebook.name
        print(f"[{profile}] {notebook.name} ...", flush=True)
        start = time.perf_counter()
        try:
            run_notebook(notebook, output, profile, kernel_name)
            results.append(NotebookResult(notebook.name, "ok", time.perf_counter() - start, str(output)))
        except Exception as err:  # noqa: BLE001 - report and stop at any failure
            message = describe_failure(err)
            results.append(NotebookResult(notebook.name, "failed", time.perf_counter() - start, str(output), message))
            print(f"FAILED {notebook.name} ({message}); executed copy: {output}", file=sys.stderr, flush=True)
            break
        print(f"[{profile}] {notebook.name} ok in {results[-1].seconds:.1f} s", flush=True)
    write_summary(out_dir, profile, results)
    return results


def write_summary(out_dir: Path, profile: str, results: list[NotebookResult]) -> None:
    """Write ``summary.json`` and ``summary.md`` beside the executed notebooks and print the table."""
    atomic_write_json(out_dir / "summary.json", {"profile": profile, "notebooks": [asdict(r) for r in results]})
    lines = ["| notebook | status | seconds |", "|---|---|---:|"]
    lines += [f"| {r.notebook} | {r.status} | {r.seconds:.1f} |" for r in results]
    table = "\n".join(lines)
    atomic_write_bytes(out_dir / "summary.md", (table + "\n").encode())
    print(f"\n{table}\n\nexecuted notebooks: {out_dir}")


# --- Hardware profiles: preflight, kernel choice and run bundles (lib.hardware, lib.bundles) -----------------


def add_hardware_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--list", action="store_true", help="list the run bundles (saved/runs/, reports/) and exit")
    parser.add_argument("--export", metavar="BUNDLE", help="copy a bundle's JSON files to reports/<machine>/<profile>/")
    parser.add_argument("--skip-preflight", action="store_true",
                        help="start even when the profile's kernel, device or precision looks unavailable")


def hardware_commands(args: argparse.Namespace) -> int | None:
    """``--list`` and ``--export``: an exit status, or None when neither was asked for."""
    from lib.bundles import bundle_table, export_bundle, find_bundles, format_table

    if args.list:
        print(format_table(bundle_table(find_bundles())))
        return 0
    if args.export:
        print(f"exported to {export_bundle(Path(args.export).resolve())}")
        return 0
    return None


def profile_kernel(profile: str, kernel: str | None) -> str | None:
    """The kernel to run under: ``--kernel``, else the profile's ``kernel:``, else the notebook's own (None)."""
    return kernel if kernel is not None else (load_profile(profile).kernel or None)


def preflight_problems(profile: str, kernel: str | None) -> list[str]:
    from lib.hardware import preflight

    return preflight(load_profile(profile), kernel)


def finish_bundle(profile: str, kernel: str | None, started: datetime, results: list[NotebookResult]) -> None:
    """Turn the run folder into a bundle: metrics copied, the kernel's machine report, ``bundle.json``."""
    from lib.bundles import write_bundle
    from lib.hardware import find_kernel

    if not results:
        return
    out_dir = Path(results[0].output).parent
    bundle = write_bundle(out_dir, load_profile(profile).name, kernel or "", find_kernel(kernel or "").python,
                          started, results)
    print(f"bundle: {out_dir} ({bundle['machine']}, {len(bundle['metrics'])} metrics files, {bundle['minutes']} min)")


# --- end of the hardware part ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu", help=f"one of {available_profiles()} (default: cpu)")
    parser.add_argument("--only", nargs="+", metavar="NN", help="run only these notebooks (numbers or names)")
    parser.add_argument("--kernel", default=None, help="Jupyter kernel name (default: the notebook's own)")
    add_hardware_arguments(parser)
    args = parser.parse_args(argv)
    # hardware: --list/--export, the profile's kernel, preflight before any notebook starts
    if (status := hardware_commands(args)) is not None:
        return status
    try:
        kernel = profile_kernel(args.profile, args.kernel)
        problems = [] if args.skip_preflight else preflight_problems(args.profile, kernel)
    except ValueError as err:
        parser.error(str(err))
    if problems:
        print(f"cannot run profile {args.profile!r} here:\n" + "\n".join(f"  - {p}" for p in problems), file=sys.stderr)
        return 2
    started = datetime.now(UTC)
    # end hardware
    try:
        results = run_all(args.profile, args.only, kernel)
    except ValueError as err:
        parser.error(str(err))
    finish_bundle(args.profile, kernel, started, results)  # hardware: the run bundle
    return 0 if results and all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
