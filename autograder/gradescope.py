"""A Gradescope autograder: ``llmkit gradescope-bundle autograder.zip [--topic N ...]``.

Gradescope (https://gradescope-autograders.readthedocs.io/en/latest/specs/)
unpacks the uploaded zip into ``/autograder/source``, runs ``setup.sh`` once
when it builds the image, copies ``run_autograder`` to ``/autograder`` and runs
it once per submission, with the student's files in ``/autograder/submission``;
whatever ``run_autograder`` leaves in ``/autograder/results/results.json`` is
the grade.

The bundle therefore holds the kit at its root (``pyproject.toml``, ``llmkit/``,
``solutions/``, ``autograder/``, ...) next to the two scripts. ``setup.sh``
installs it; ``run_autograder`` calls :func:`main`, which grades the submission
with ``llmkit grade`` (the sandboxed grader, the same scores as on the
instructor's machine) and writes ``results.json`` (``autograder.report``: one
test per topic, in course order). A submission is the folder Gradescope made
(an uploaded ``submission.zip`` is unpacked by Gradescope; a zip left as a
file inside the folder is graded as a zip). Whatever happens - a malformed
submission, a crash of the grader itself - a ``results.json`` is written.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from llmkit import registry
from llmkit.atomic import write_atomic

KIT_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("llmkit", "course", "solutions", "checks", "autograder")
FILES = ("pyproject.toml", "README.md", "conftest.py")
_TOPIC_DIR = re.compile(r"t\d\d_[a-z0-9_]+")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope image set-up (runs once, as root): Python, the sandbox tools, CPU torch, then the kit itself.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3-venv util-linux >/dev/null
apt-get install -y -qq bubblewrap >/dev/null || echo "bubblewrap is not available: the grader uses its fallback sandbox"
python3 -m venv /opt/llmkit
/opt/llmkit/bin/pip install --quiet "torch==2.13.0" || /opt/llmkit/bin/pip install --quiet "torch>=2.2"
/opt/llmkit/bin/pip install --quiet -e /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Grade one Gradescope submission with llmkit's hidden checks; always leaves results/results.json.
# AUTOGRADER_ROOT and LLMKIT_PYTHON exist for the kit's own test, which lays out this folder elsewhere.
set -uo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
python="${LLMKIT_PYTHON:-/opt/llmkit/bin/python}"
mkdir -p "$root/results"
PYTHONPATH="$root/source" "$python" -m autograder.gradescope "$root" __OPTIONS__
status=$?
if [ ! -s "$root/results/results.json" ]; then
  printf '{"score": 0, "output": "%s", "stdout_visibility": "hidden", "tests": []}\\n' \\
    "The autograder itself failed (not your code): please tell your instructor." > "$root/results/results.json"
fi
exit $status
"""

GRADER_FAILED = ("The autograder could not grade this submission because of an error in the grading kit, "
                 "not in your code: please tell your instructor (the details are in the autograder's log).")


def run_autograder_script(topics: list[registry.Topic] | None = None, jobs: int = 2, mode: str = "fallback") -> str:
    """The ``run_autograder`` script, with the assignment's topics and grading options written in."""
    options = ["--jobs", str(jobs), "--mode", mode]
    for topic in topics or []:
        options += ["--topic", topic.code]
    return RUN_AUTOGRADER.replace("__OPTIONS__", shlex.join(options))


def build_bundle(target: Path, topics: list[registry.Topic] | None = None, jobs: int = 2,
                 mode: str = "fallback") -> list[str]:
    """Write the bundle zip; return the names it holds. ``topics``: the assignment's (default: all)."""
    names = []
    scripts = (("setup.sh", SETUP_SH), ("run_autograder", run_autograder_script(topics, jobs, mode)))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in scripts:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
            names.append(name)
        for package in PACKAGES:
            for path in sorted((KIT_ROOT / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                    arcname = str(path.relative_to(KIT_ROOT))
                    zf.write(path, arcname)
                    names.append(arcname)
        for name in FILES:
            zf.write(KIT_ROOT / name, name)
            names.append(name)
    return names


# ----------------------------------------------------------------------------- inside Gradescope's container


def submission_source(folder: Path) -> Path:
    """What to grade in Gradescope's submission folder: the folder, or the one zip it holds.

    Gradescope unpacks an uploaded zip; a student who zipped the zip (or a
    submission method that keeps it whole) leaves a single ``.zip`` file, which
    ``llmkit grade`` then unpacks itself.
    """
    if not folder.is_dir():
        return folder
    entries = [p for p in folder.iterdir() if p.name not in ("__MACOSX", ".DS_Store")]
    has_topics = any(_TOPIC_DIR.fullmatch(p.name) for d in [folder, folder / "course", *entries]
                     if d.is_dir() for p in d.iterdir())
    zips = [p for p in entries if p.is_file() and p.suffix.lower() == ".zip"]
    return zips[0] if not has_topics and len(zips) == 1 else folder


def _failure_results(started: float, detail: str) -> dict:
    return {"score": 0.0, "execution_time": round(time.time() - started), "output": GRADER_FAILED,
            "output_format": "text", "stdout_visibility": "hidden", "tests": [],
            "extra_data": {"grader_error": detail[-2000:]}}


def grade_submission(root: Path, topics: list[str], jobs: int = 2, mode: str = "fallback") -> dict:
    """Grade ``root/submission`` and write ``root/results/results.json``; return what was written."""
    started = time.time()
    results_path = root / "results" / "results.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    source = submission_source(root / "submission")
    with tempfile.TemporaryDirectory(prefix="llmkit-gradescope-") as tmp:
        out = Path(tmp) / "grading"
        command = [sys.executable, "-m", "llmkit.cli", "grade", str(source), "--out", str(out),
                   "--jobs", str(jobs), "--mode", mode]
        for topic in topics:
            command += ["--topic", topic]
        print("$", shlex.join(command), flush=True)  # the log (Gradescope's stdout) is for instructors only
        run = subprocess.run(command, stderr=subprocess.STDOUT, check=False)
        written = sorted(out.glob("gradescope/*/results.json"))
        if len(written) == 1:
            data = json.loads(written[0].read_text(encoding="utf-8"))
            data = {"score": data.pop("score"), "execution_time": round(time.time() - started), **data}
        else:
            data = _failure_results(started, f"llmkit grade exited with status {run.returncode} "
                                              f"and wrote {len(written)} results")
    write_atomic(results_path, json.dumps(data, indent=1))
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade one Gradescope submission (run by run_autograder).")
    parser.add_argument("root", type=Path, help="Gradescope's /autograder folder")
    parser.add_argument("--topic", action="append", default=[], help="topics of this assignment (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--mode", default="fallback")
    args = parser.parse_args(argv)
    try:
        data = grade_submission(args.root, args.topic, args.jobs, args.mode)
    except Exception as exc:  # never leave Gradescope without a results.json
        data = _failure_results(time.time(), f"{type(exc).__name__}: {exc}")
        (args.root / "results").mkdir(parents=True, exist_ok=True)
        (args.root / "results" / "results.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
        raise
    print(f"score {data['score']:g}; results.json written to {args.root / 'results'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
