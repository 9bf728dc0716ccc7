"""Run every benchmark and write RESULTS.md, results.json and PNG plots.

Usage::

    python benchmarks/run_all.py                 # full run (10-30 minutes on 2 busy CPU cores)
    python benchmarks/run_all.py --quick         # smoke run at tiny sizes (about a minute)
    python benchmarks/run_all.py --only speed --threads 1 --out /tmp/bench
    python benchmarks/run_all.py --only tables       # synthetic tables vs TVAE: tables.md
    python benchmarks/run_all.py --only imputation   # VAEImputer vs scikit-learn's imputers: imputation.md

The device is CUDA when ``torch.cuda.is_available()``, else the CPU.
"""

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmarks import imputation as imputation_benchmarks  # noqa: E402
from benchmarks import quality as quality_benchmarks  # noqa: E402
from benchmarks import report  # noqa: E402
from benchmarks import speed as speed_benchmarks  # noqa: E402
from benchmarks import tables as tables_benchmarks  # noqa: E402
from benchmarks import threads as threads_benchmarks  # noqa: E402
from benchmarks._common import benchmark_device, machine_description  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
#: Benchmarks that write their own Markdown and JSON (OUT/<name>.md, OUT/<name>.json).
SEPARATE = {"tables": tables_benchmarks, "imputation": imputation_benchmarks}
PARTS = ("speed", "quality", "threads")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the code paths, not the numbers")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--only", choices=PARTS + tuple(SEPARATE),
                        help="run one part only; speed, quality or threads keeps the others from "
                             "OUT/results.json, tables and imputation write their own tables.md / imputation.md")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads for every contender (default: torch's own choice)")
    parser.add_argument("--no-skorch", action="store_true", help="leave skorch out of the training comparison")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots (no matplotlib needed)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.only in SEPARATE:
        return SEPARATE[args.only].main((["--quick"] if args.quick else []) + ["--out", str(args.out)])
    device = benchmark_device()
    args.out.mkdir(parents=True, exist_ok=True)
    machine = machine_description(device)
    results = {"machine": machine, "quick": args.quick, "runs": {}}
    run_note = {"command": _command(args), "torch threads": torch.get_num_threads(),
                "load average at start": machine.get("load average (1 min) at start")}
    started = time.perf_counter()
    if args.only in (None, "speed"):
        print("speed benchmarks ...", flush=True)
        results["speed"] = speed_benchmarks.run(quick=args.quick, device=device, include_skorch=not args.no_skorch)
        results["runs"]["speed"] = run_note
    if args.only in (None, "quality"):
        print("quality benchmarks ...", flush=True)
        results["quality"] = quality_benchmarks.run(quick=args.quick)
        results["runs"]["quality"] = run_note
    if args.only in (None, "threads"):
        print("thread policy benchmarks (idle and beside a busy core) ...", flush=True)
        results["threads"] = threads_benchmarks.run(quick=args.quick)
        results["runs"]["threads"] = run_note
    results["seconds"] = time.perf_counter() - started
    previous_path = args.out / "results.json"
    if args.only and previous_path.exists():
        previous = json.loads(previous_path.read_text(encoding="utf-8"))
        for half in PARTS:
            if half not in results and half in previous and previous.get("quick") == args.quick:
                results[half] = previous[half]
                results["runs"][half] = dict(previous.get("runs", {}).get(half, {}), kept_from_previous_run=True)

    how = "; ".join(
        f"{half}: `{note.get('command', '?')}` ({note.get('torch threads', '?')} torch threads"
        + (", kept from an earlier run" if note.get("kept_from_previous_run") else "") + ")"
        for half, note in results["runs"].items()
    )
    markdown = report.results_markdown(machine, results.get("speed"), results.get("quality"),
                                       quick=args.quick, command=how, threads=results.get("threads"))
    if not args.no_plots:
        images = report.plots(args.out, results.get("speed"), results.get("quality"))
        markdown += "\n## Plots\n\n" + "\n".join(f"![{p.stem}]({p.name})" for p in images) + "\n"
    if (args.out / "DEFAULTS_STUDY.md").exists():
        markdown += ("\nEvidence for the default parameters (several seeds per setting): "
                     "[DEFAULTS_STUDY.md](DEFAULTS_STUDY.md), from `python benchmarks/defaults_study.py`.\n")
    if args.only is None:
        markdown += _separate_benchmarks(args)
    (args.out / "RESULTS.md").write_text(markdown, encoding="utf-8")
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=_jsonable), encoding="utf-8")
    print(f"wrote {args.out / 'RESULTS.md'} in {results['seconds']:.0f} s", flush=True)
    return results


def _separate_benchmarks(args):
    """Run the benchmarks with their own reports (they need the bench extra); links for RESULTS.md."""
    links = []
    for name, module in SEPARATE.items():
        print(f"{name} benchmarks ...", flush=True)
        try:
            module.main((["--quick"] if args.quick else []) + ["--out", str(args.out)])
        except ImportError as error:  # ctgan, sdmetrics, palmerpenguins: `pip install -e ".[bench]"`
            print(f"{name} benchmarks skipped: {error}", flush=True)
            continue
        links.append(f"[{name}.md]({name}.md)")
    return ("\nSynthetic tables and imputation: " + ", ".join(links) + ".\n") if links else ""


def _command(args):
    return "python benchmarks/run_all.py" + (" --quick" if args.quick else "") + (
        f" --threads {args.threads}" if args.threads else "") + (f" --only {args.only}" if args.only else "")


def _jsonable(value):
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


if __name__ == "__main__":
    main()
