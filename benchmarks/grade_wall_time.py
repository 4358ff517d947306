"""Wall time of `llmkit grade` on copies of the reference: 1 submission, then N with --jobs J.

    python benchmarks/grade_wall_time.py [--n 10] [--jobs 2]

Every topic of every submission runs in its own sandboxed worker (the cost is
dominated by starting Python and importing torch in each worker).
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from llmkit import registry
from llmkit.resolver import named_root


def _grade(subs: list[Path], out: Path, jobs: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "llmkit.cli", "grade", *map(str, subs), "--out", str(out),
                    "--jobs", str(jobs)], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    topics = registry.available()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subs = []
        for i in range(args.n):
            course = root / f"student{i:02d}" / "course"
            for topic in topics:
                shutil.copytree(named_root("solutions") / topic.package, course / topic.package)
            subs.append(root / f"student{i:02d}")
        one = _grade(subs[:1], root / "out1", 1)
        many = _grade(subs, root / "outN", args.jobs)
    print(f"topics per submission: {len(topics)}")
    print(f"1 submission, --jobs 1: {one:.1f} s")
    print(f"{args.n} submissions, --jobs {args.jobs}: {many:.1f} s ({many / args.n:.1f} s per submission)")


if __name__ == "__main__":
    main()
