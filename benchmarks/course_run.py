"""Wall time and results of ``llmkit run`` (the whole course's main job) on a few CPU threads.

    taskset -c 0,1 python benchmarks/course_run.py [--quick] [--threads 2] [--impl solutions] [--out DIR]

Runs exactly what ``llmkit run`` (or ``llmkit run --quick``) runs - Stages 1-3,
pretraining, spam classification, instruction finetuning, evaluation - without
the command line (so it also works where typer is not installed), from a fresh
folder, and prints the total wall time, the time of each Stage 5 step and the
numbers the README quotes: spam test accuracy, instruction exact match before
and after finetuning, the offline judge's mean score. The default run must stay
within 15 minutes on 2 CPU cores, ``--quick`` within 3.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console

from llmkit import resolver
from llmkit.finetune import CourseRun, course_settings
from llmkit.pipeline import run_pipeline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="time `llmkit run --quick`")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (pin the cores with taskset)")
    parser.add_argument("--impl", default="solutions", help="whose topics run (resolver spec)")
    parser.add_argument("--out", default=None, help="run folder (default: a fresh temporary folder)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="course_run_"))
    if out.exists() and args.out:
        shutil.rmtree(out)  # a timing means a run from nothing
    pretraining, finetuning = course_settings(args.quick)
    resolver.install(args.impl)
    console = Console(width=150)
    start = time.perf_counter()
    code = run_pipeline("hamlet", console, None, CourseRun(out, pretraining, finetuning))
    total = time.perf_counter() - start
    report = json.loads((out / "report" / "report.json").read_text()) if code == 0 else {}
    results = report.get("results", {})
    summary = {
        "run": "llmkit run --quick" if args.quick else "llmkit run", "threads": args.threads, "exit_code": code,
        "total_min": round(total / 60, 2), "stage5_s": {k: round(v) for k, v in report.get("times_s", {}).items()},
        "spam_test_accuracy": results.get("classification", {}).get("test_accuracy"),
        "instruction_exact_before": results.get("instructions", {}).get("exact_before"),
        "instruction_exact_after": results.get("instructions", {}).get("exact_after"),
        "offline_judge_mean": results.get("evaluation", {}).get("offline", {}).get("summary", {}).get("mean"),
        "out": str(out),
    }
    print(json.dumps(summary, indent=2))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
