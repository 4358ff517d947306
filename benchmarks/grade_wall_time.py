"""Wall time of `llmkit grade` on copies of the reference, and the grader's per-topic overhead.

    python benchmarks/grade_wall_time.py [--n 4] [--jobs 1 2] [--topics 1-26] [--kit PATH ...]
    python benchmarks/grade_wall_time.py --overhead [--runs 20]

The first form grades N submissions (each a copy of the reference of the chosen
topics) with each ``--jobs`` value and prints seconds per submission and a
projection to 36 topics. Give several ``--kit`` checkouts (say the old and the
new grader) to measure them interleaved - kit A, kit B, kit A, kit B... - so a
busy machine slows both alike; ``--repeat`` sets how many rounds.

The second form times one topic run whose checks do nothing - the grader's own
cost per topic - through the submission's fork server (``bwrap`` level) and
through a fresh worker process per topic (the weaker levels, and the design
before the fork server), interleaved.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent


def _topic_numbers(text: str) -> list[int]:
    numbers: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        numbers += range(int(lo), int(hi or lo) + 1)
    return numbers


def _grade(kit: Path, subs: list[Path], out: Path, jobs: int, topics: list[int]) -> float:
    env = {**os.environ, "PYTHONPATH": str(kit), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "llmkit.cli", "grade", *map(str, subs), "--out", str(out), "--jobs", str(jobs)]
    for number in topics:
        command += ["--topic", str(number)]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=kit, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"llmkit grade failed in {kit}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return seconds


def wall_time(args) -> None:
    kits = [Path(k).resolve() for k in args.kit] or [KIT]
    topics = _topic_numbers(args.topics) if args.topics else None
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        chosen = {}
        for kit in kits:  # the topics every kit has, unless named
            names = {p.name for p in (kit / "solutions").glob("t[0-9][0-9]_*") if (p / "__init__.py").is_file()}
            chosen[kit] = names
        common = sorted(set.intersection(*chosen.values()))
        if topics is None:
            topics = [int(name[1:3]) for name in common]
        packages = [name for name in common if int(name[1:3]) in topics]
        subs = []
        for i in range(args.n):
            course = root / f"student{i:02d}" / "course"
            for package in packages:
                shutil.copytree(kits[0] / "solutions" / package, course / package,
                                ignore=shutil.ignore_patterns("__pycache__"))
            subs.append(root / f"student{i:02d}")
        print(f"{len(packages)} topics per submission ({topics[0]:02d}-{topics[-1]:02d}), {args.n} submissions; "
              f"kits: {', '.join(map(str, kits))}")
        results: dict[tuple[Path, int], list[float]] = {}
        for round_ in range(args.repeat):
            for jobs in args.jobs:
                for kit in kits:
                    out = root / f"out-{round_}-{jobs}-{kits.index(kit)}"
                    seconds = _grade(kit, subs, out, jobs, topics)
                    results.setdefault((kit, jobs), []).append(seconds)
                    print(f"  round {round_ + 1} {kit} --jobs {jobs}: {seconds:.1f} s "
                          f"({seconds / args.n:.2f} s per submission)", flush=True)
        for (kit, jobs), times in results.items():
            per = statistics.median(times) / args.n
            print(f"{kit} --jobs {jobs}: {per:.2f} s per submission (median of {len(times)}), "
                  f"{per / len(packages):.3f} s per topic; 36 topics: {per / len(packages) * 36:.1f} s per submission")


def overhead(args) -> None:
    from autograder import sandbox
    from autograder.forkserver import ForkServer, tar_files
    from autograder.grade import stage_kit
    from llmkit import registry
    from llmkit.resolver import named_root

    topic = registry.get(1)
    root = Path(tempfile.mkdtemp(prefix="llmkit-overhead-"))
    try:
        empty = root / "empty" / f"{topic.package}.py"
        empty.parent.mkdir()
        empty.write_text('"""A topic whose checks do nothing."""\n')
        reference = named_root("solutions") / topic.package
        limits = sandbox.Limits()

        # the fork server: one sandbox, a fresh child per topic run
        stage_kit(root / "kit")
        view = sandbox.python_view([named_root("solutions").parent, root])
        server = ForkServer(view, root / "kit", "overhead")
        start = time.perf_counter()
        server.wait_ready()
        print(f"fork server start (bwrap, Python, torch): {time.perf_counter() - start:.2f} s")
        files = tar_files([(empty, f"hidden/{topic.package}.py")]
                          + [(p, f"learner/{topic.package}/{p.name}") for p in sorted(reference.glob("*.py"))])
        request = {"topic": topic.number, "seed": 1, "spec": f"{sandbox.RUN_DIR}/learner",
                   "uid": sandbox.WORKER_UID_BASE if os.geteuid() == 0 else None}

        # a fresh worker per topic run (the weaker levels)
        level = sandbox.detect("auto") if sandbox.detect("auto") != "bwrap" else (
            "namespaces" if os.geteuid() == 0 else "userns")
        from autograder.grade import stage

        def fresh_worker() -> None:
            folder = Path(tempfile.mkdtemp(dir=root))
            spec = stage(folder, topic, reference.parent, [topic], [])
            shutil.copy2(empty, folder / "kit" / "autograder" / "hidden" / empty.name)
            import json
            import site

            request_file = folder / "request.json"
            request_file.write_text(json.dumps({
                "kit": str(folder / "kit"), "site_packages": site.getsitepackages(), "spec": spec,
                "topic": topic.number, "seed": 1, "result": str(folder / "result.json")}))
            run = sandbox.run(level, [str(folder / "worker.py"), str(request_file)], folder, limits, [],
                              sandbox.WORKER_UID_BASE + 1 if level == "namespaces" else None)
            if run.returncode != 0:
                raise SystemExit(f"fresh worker failed: {run.stderr_tail[-500:]}")

        def fork_server() -> None:
            outcome = server.run(request, files, limits, 2**20)
            if outcome.run.returncode != 0 or outcome.result is None:
                raise SystemExit(f"fork server run failed: {outcome.run}")

        times: dict[str, list[float]] = {"fork server": [], f"fresh worker ({level})": []}
        for _ in range(args.runs):  # interleaved, so that load on the machine hits both
            for name, fn in zip(times, (fork_server, fresh_worker)):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
        server.close()
        for name, values in times.items():
            print(f"{name}: median {statistics.median(values):.3f} s per topic run, "
                  f"min {min(values):.3f} s ({len(values)} runs, checks that do nothing)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4, help="submissions per grading run")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--topics", default="", help="e.g. 1-26 (default: every topic all kits have)")
    parser.add_argument("--kit", action="append", default=[], help="a kit checkout to time (repeatable)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the interleaved measurement")
    parser.add_argument("--overhead", action="store_true", help="time a topic whose checks do nothing")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if args.overhead:
        overhead(args)
    else:
        wall_time(args)


if __name__ == "__main__":
    main()
