"""The autograder on a corpus of submissions written for these tests: exact scores.

Submissions are built from the correct-but-different topic-01 implementation in
``tests/alternatives`` with one fault or cheat injected each. One grading run
covers them all (``--jobs 2``), then each test asserts on its own submission.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from autograder.grade import Config, Grader
from autograder.sandbox import Limits, detect
from autograder.submission import submission_id
from llmkit import registry
from llmkit.resolver import named_root
from tests.helpers import ALTERNATIVES

T01 = registry.get(1)
REFERENCE_FILE = named_root("solutions") / "t01_tokenizer" / "tokenizer.py"
HIDDEN_FILE = Path(__file__).resolve().parent.parent / "autograder" / "hidden" / "t01_tokenizer.py"
KIT_GIT = Path(__file__).resolve().parent.parent / ".git"


# Learner code that replaces the worker's results with its own and leaves, at any sandbox level:
# the bwrap fork server's probe process writes to a memory file (``result_fd()``), the weaker
# levels' worker to the file its request names.
FORGE = """import json, os, sys
CHECKS = ['pretokenize_random', 'vocab_random', 'encode_unknown', 'decode_random', 'round_trip_random',
          'decode_unknown_id']
forged = json.dumps({results}).encode()
main = sys.modules['__main__']
if hasattr(main, 'result_fd') and main.result_fd() >= 0:
    os.ftruncate(main.result_fd(), 0)
    os.pwrite(main.result_fd(), forged, 0)
else:
    with open(json.load(open(sys.argv[1]))['result'], 'wb') as f:
        f.write(forged)
os._exit(0)"""


def _submission(root: Path, name: str, init_code: str = "", replace: tuple[str, str] | None = None) -> Path:
    """A project folder with course/t01_tokenizer from the alternative implementation, plus a fault."""
    folder = root / name / "course" / "t01_tokenizer"
    shutil.copytree(ALTERNATIVES / "t01_tokenizer", folder, ignore=shutil.ignore_patterns("__pycache__"))
    if replace:
        module = folder / "tokenizer.py"
        source = module.read_text()
        assert replace[0] in source
        module.write_text(source.replace(*replace))
    if init_code:
        init = folder / "__init__.py"
        init.write_text(init.read_text() + "\n" + init_code + "\n")
    return root / name


CASES: dict[str, dict] = {
    "correct": {},
    "partial": {"replace": ('r"\\1", text)', 'r" \\1", text)')},  # space before punctuation
    "import_error": {"init_code": "import numpy_that_does_not_exist"},
    "syntax_error": {"init_code": "def broken(:\n    pass"},
    "exception": {"init_code": "raise RuntimeError('boom at import')"},
    "sys_exit": {"init_code": "import sys\nsys.exit(3)"},
    "os_exit": {"init_code": "import os\nos._exit(4)"},
    "segfault": {"init_code": "import ctypes\nctypes.string_at(0)"},
    "hang": {"replace": ("    def encode(self, text):\n", "    def encode(self, text):\n        while True: pass\n")},
    "memory": {"init_code": "hog = bytearray(8 * 1024**3)"},
    "fork_bomb": {"init_code": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"},
    "output_flood": {"init_code": "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)"},
    # cheating: read the reference and run it as its own code
    "read_reference": {"init_code": f"exec(open({str(REFERENCE_FILE)!r}).read())"},
    "import_reference": {"init_code": "from solutions.t01_tokenizer import *"},
    # cheating: patch the comparison / the reference inside the worker, with wrong answers
    "patch_compare": {"init_code": "import llmkit.values, llmkit.checks\n"
                                   "llmkit.values.same = lambda *a, **k: None\n"
                                   "llmkit.checks.judge = lambda *a, **k: None",
                      "replace": ("return ids\n", "return [0]\n")},
    # cheating: forge the worker's result file with "ok" outcomes, then leave
    "forge_results": {"init_code": FORGE.format(results="{n: {'status': 'ok', 'value': [], 'message': '',"
                                                        " 'seconds': 0} for n in CHECKS}")},
    # cheating: read the hidden checks of the kit
    "read_hidden": {"init_code": f"open({str(HIDDEN_FILE)!r}).read()"},
    # cheating: swap the worker's capture and result files for links to the reference, so that
    # the grader (which can read it) would put its text into the feedback
    "link_outputs": {"init_code": "import os\nfor name in ('stderr.txt', 'result.json'):\n"
                                  "    try:\n        os.unlink(name)\n    except OSError:\n        pass\n"
                                  f"    os.symlink({str(REFERENCE_FILE)!r}, name)\nos._exit(1)"},
    # cheating: dig the reference out of the kit's git history (a missing .git raises too)
    "read_git": {"init_code": f"import os\nos.listdir({str(KIT_GIT)!r})"},
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("grading")
    sources = [_submission(root, name, **spec) for name, spec in CASES.items()]
    # cheating: try to write the gradebook's own result file for itself
    sources.append(_submission(root, "write_results", init_code=(
        f"import pathlib\np = pathlib.Path({str(out)!r}) / 'results' / 'write_results' / 't01.json'\n"
        "try:\n    p.parent.mkdir(parents=True, exist_ok=True)\n    p.write_text('{\"score\": 10}')\n"
        "except OSError:\n    pass")))
    limits = Limits(wall_s=15, cpu_s=15, memory_mb=3072, output_mb=2)
    config = Config(out, "fallback", 2, [T01], limits)
    taken: set[str] = set()
    ids = [submission_id(s, taken) for s in sources]
    return out, Grader(config).grade(sources, ids)


def _grade(graded, name):
    return graded[1][name][1][1]


def test_correct_submission_gets_full_marks(graded):
    assert _grade(graded, "correct").score == 10.0


def test_partially_correct_submission_gets_partial_marks(graded):
    grade = _grade(graded, "partial")
    # 3 of 5 behaviour checks pass; the error-handling check passes too but counts only 3/5 of its point
    assert grade.score == pytest.approx(10 * (3 + 3 / 5) / 6, abs=0.01)
    failing = [c for c in grade.checks if c.status != "pass"]
    assert {c.name for c in failing} == {"decode_random", "round_trip_random"}
    assert all("first difference at character" in c.message for c in failing)


@pytest.mark.parametrize("name,reason", [
    ("import_error", "ModuleNotFoundError"),
    ("syntax_error", "SyntaxError"),
    ("exception", "boom at import"),
    ("sys_exit", "SystemExit"),
    ("os_exit", "exit status 4"),
    ("segfault", "segmentation fault"),
    ("hang", "timed out"),
    ("memory", "MemoryError"),
    ("fork_bomb", ""),
    ("output_flood", "File too large"),
    ("read_reference", "raised (FileNotFoundError|PermissionError)"),  # absent (bwrap) or covered
    ("import_reference", "ModuleNotFoundError"),
    ("forge_results", "vocab_random"),  # an empty list is no vocabulary: the grader's comparison says so
    ("read_hidden", "raised (FileNotFoundError|PermissionError)"),
    ("read_git", "raised"),
    ("link_outputs", "exit status 1"),
])
def test_faults_and_cheats_score_zero_with_a_reason(graded, name, reason):
    if detect() == "none" and name.startswith(("read_", "fork")):
        pytest.skip("needs the namespace sandbox")
    grade = _grade(graded, name)
    assert grade.score == 0.0
    text = grade.reason + " ".join(f"{c.name}: {c.message}" for c in grade.checks)
    assert re.search(reason, text), text
    assert text.strip(), "a zero needs a reason"


def test_links_never_bring_reference_text_into_feedback(graded):
    grade = _grade(graded, "link_outputs")
    text = grade.reason + " ".join(c.message for c in grade.checks)
    reference_lines = [line.strip() for line in REFERENCE_FILE.read_text().splitlines() if len(line.strip()) > 8]
    assert not [line for line in reference_lines if line in text]


def test_patched_comparison_changes_nothing(graded):
    grade = _grade(graded, "patch_compare")
    assert 0 < grade.score < 10  # encode is wrong; the grader's own comparison saw it


def test_learner_cannot_write_its_own_results(graded):
    out, results = graded
    grade = results["write_results"][1][1]
    assert grade.score == 10.0  # graded normally (it is the correct implementation)...
    stored = json.loads((out / "results" / "write_results" / "t01.json").read_text())
    assert stored["score"] == 10.0 and stored["topic"] == "t01"  # ...and the file is the grader's


def test_a_rerun_regrades_nothing(graded):
    out, results = graded
    config = Config(out, "fallback", 2, [T01], Limits(wall_s=1))
    sources = [Path(results[sid][0].source) for sid in sorted(results)]
    rerun = Grader(config).grade(sources, sorted(results))
    assert {sid: r[1][1].score for sid, r in rerun.items()} == {sid: r[1][1].score for sid, r in results.items()}


# ----------------------------------------------------------------------------- bad input


def test_hostile_zip_writes_nothing_outside_and_says_why(tmp_path):
    from autograder.submission import unpack

    good = _submission(tmp_path / "src", "alice")
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in good.rglob("*.py"):
            zf.write(path, path.relative_to(good))
        zf.writestr("../escape.py", "x = 1")
        zf.writestr("/abs/evil.py", "x = 1")
        link = zipfile.ZipInfo("course/link")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
        zf.writestr("course/huge.bin", b"\0" * (3 * 1024 * 1024))
    sub = unpack(archive, tmp_path / "work", "alice")
    assert not sub.error and sub.course is not None
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "work" / "escape.py").exists()
    notes = " ".join(sub.notes)
    assert "outside the submission" in notes and "symbolic links" in notes and "file limit" in notes
    for path in (tmp_path / "work").rglob("*"):
        assert tmp_path / "work" in path.parents


def test_bad_inputs_get_one_clear_sentence(tmp_path):
    from autograder.submission import unpack, unreadable_source

    (tmp_path / "notzip.zip").write_text("hello")
    assert "not a readable zip" in unpack(tmp_path / "notzip.zip", tmp_path / "w", "a").error
    assert "no such file" in unpack(tmp_path / "missing", tmp_path / "w", "b").error
    (tmp_path / "empty").mkdir()
    assert "no course/ folder" in unpack(tmp_path / "empty", tmp_path / "w", "c").error
    sub = _submission(tmp_path / "src", "latin")
    (sub / "course" / "t01_tokenizer" / "tokenizer.py").write_bytes(b"x = '\xe9'\n")
    assert "not UTF-8" in unreadable_source(sub / "course" / "t01_tokenizer")


def test_missing_topic_and_broken_submission_score_zero_without_a_worker(tmp_path):
    other = tmp_path / "nobody" / "course" / "t02_bpe"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("")
    config = Config(tmp_path / "out", "fallback", 1, [T01], Limits(wall_s=5))
    results = Grader(config).grade([tmp_path / "nobody", tmp_path / "ghost.zip"], ["nobody", "ghost"])
    assert results["nobody"][1][1].status == "missing"
    assert results["ghost"][1][1].status == "error" and "no such file" in results["ghost"][1][1].reason


def test_a_topic_whose_probes_need_the_main_thread_grades_the_reference_fully(tmp_path):
    """t35's hidden checks fill the disk (``RLIMIT_FSIZE`` with ``SIGXFSZ`` ignored: signals are the main
    thread's). The grader used to compute the reference answers in its pool threads, where that probe fell
    back to something else: the canary failed on the kit's own t35 and nobody was graded. The answers are
    now computed on the main thread before any worker starts, and a thread that would compute one raises."""
    import threading

    t35 = registry.get(35)
    for topic in (*registry.dependency_closure(t35), t35):  # a learner's own earlier topics, all correct
        shutil.copytree(named_root("solutions") / topic.package, tmp_path / "ref" / "course" / topic.package,
                        ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    grader = Grader(Config(tmp_path / "out", "fallback", 2, [t35], Limits(wall_s=120, cpu_s=120)))
    grade = grader.grade([tmp_path / "ref"], ["ref"])["ref"][1][35]
    assert grade.full, (grade.reason, [(c.name, c.message) for c in grade.checks if c.status != "pass"])
    failed: list[BaseException] = []
    thread = threading.Thread(target=lambda: _catch(failed, grader._reference, t35, [], grader.seed_for(t35) + 1))
    thread.start()
    thread.join()
    assert failed and "not computed before grading" in str(failed[0])


def _catch(caught: list[BaseException], function, *args) -> None:
    try:
        function(*args)
    except Exception as exc:  # noqa: BLE001 - the test looks at it
        caught.append(exc)


# ----------------------------------------------------------------------------- replaying a grade


def _replay_args(command: str) -> tuple[int, str, str]:
    """(seed, spec, topic) of a printed ``llmkit check --hidden --seed S --impl SPEC NN``."""
    import shlex

    argv = shlex.split(command)
    assert argv[:4] == ["llmkit", "check", "--hidden", "--seed"] and argv[-3] == "--impl", command
    return int(argv[4]), argv[-2], argv[-1]


def _failing(results) -> list[tuple[str, str, str]]:
    return [(r.check.name, r.status, r.message) for r in results if r.status != "pass"]


def test_feedback_replay_reproduces_a_fallback_grade_in_process(tmp_path):
    """A t10 graded with the reference t08, t09 (the learner's are stubs): the feedback's
    replay command, run through ``run_hidden``, gives the same failing checks and messages."""
    from autograder.grade import CheckLine, TopicGrade, stage
    from autograder.report import topic_feedback
    from llmkit import stubgen
    from llmkit.checks import fresh_seed, run_hidden
    from tests.helpers import copy_reference

    course = tmp_path / "alice" / "course"
    stubgen.write_stubs([registry.get(8), registry.get(9)], course)
    t10 = registry.get(10)
    module = copy_reference(t10, course) / t10.module
    # off in eval mode only: train-mode dropout checks pass (their masks come from torch's global
    # generator, which the grader's worker does not seed, so their messages could not be replayed)
    module.write_text(module.read_text() + "\n_forward = CausalAttention.forward\n"
                      "CausalAttention.forward = lambda self, x: _forward(self, x) * (1 if self.training else 1.01)\n")
    replaced = [registry.get(8), registry.get(9)]
    # what the grader's worker ran: its staged folders (learner topics + reference prerequisites), one seed
    worker_spec = stage(tmp_path / "worker", t10, course, [t10], replaced)
    seed = fresh_seed()
    graded = run_hidden(t10, worker_spec, seed=seed)
    grade = TopicGrade("t10", t10.title, 3.0, 10.0, "graded", variant="fallback", replaced=["t08", "t09"],
                       seed=seed, checks=[CheckLine(r.check.name, r.check.doc, r.status, r.message, r.check.points)
                                          for r in graded])
    assert _failing(graded)

    feedback = topic_feedback(grade, course)
    replay_lines = [line for line in feedback.splitlines() if "llmkit check" in line]
    assert len(replay_lines) == 1 and f"seed {seed}" in replay_lines[0]
    replay_seed, spec, topic = _replay_args(replay_lines[0].split(": ", 1)[1])
    assert (replay_seed, spec, topic) == (seed, f"{course},8-9=solutions", "10")
    assert _failing(run_hidden(registry.get(topic), spec, seed=replay_seed)) == _failing(graded)
    # the replaced prerequisites matter: on the learner's own t08, t09 the same seed tells another story
    assert _failing(run_hidden(t10, str(course), seed=seed)) != _failing(graded)


def test_feedback_names_the_replay_only_where_marks_were_lost(tmp_path):
    from autograder.grade import CheckLine, TopicGrade
    from autograder.report import replay, topic_feedback, write_gradescope, write_submission_json
    from autograder.submission import Submission
    from llmkit.resolver import Choice

    lost = TopicGrade("t06", "Full data pipeline", 5.0, 10.0, "graded", seed=123, variant="fallback",
                      replaced=["t02", "t03", "t05"], checks=[CheckLine("a", "does a", "fail", "got 3 items", 1)])
    full = TopicGrade("t01", "Tokenizer from scratch", 10.0, 10.0, "graded", seed=456)
    missing = TopicGrade("t04", "Token embeddings", 0.0, 10.0, "missing", reason="not in the submission")
    course = tmp_path / "work" / "alice" / "src" / "course"
    course.mkdir(parents=True)
    command = replay(lost, course)
    assert command == f"llmkit check --hidden --seed 123 --impl {course},2-3=solutions,5=solutions 06"
    choice = Choice(_replay_args(command)[1])
    assert [choice.root_for(n) == named_root("solutions") for n in range(1, 7)] == [
        False, True, True, False, True, False]
    assert replay(full, course) is None and replay(missing, course) is None
    assert "llmkit check" not in topic_feedback(full, course) + topic_feedback(missing, course)
    assert topic_feedback(lost).count("\n") == topic_feedback(lost, course).count("\n")  # one line either way

    sub = Submission("alice", "alice.zip", course.parent, course=course)
    grades = {1: full, 4: missing, 6: lost}
    outputs = {t["name"].split()[0]: t["output"]
               for t in json.loads(write_gradescope(tmp_path, sub, grades).read_text())["tests"]}
    assert command in outputs["t06"] and "llmkit check" not in outputs["t01"] + outputs["t04"]
    topics = json.loads(write_submission_json(tmp_path, sub, grades).read_text())["topics"]
    assert topics["t06"]["replay"] == command and topics["t01"]["replay"] == "" and topics["t06"]["seed"] == 123


def test_replay_of_a_graded_submission_reproduces_its_feedback(graded):
    """End to end: the sandboxed worker's outcome for a partial submission, replayed in-process."""
    from autograder.report import replay
    from llmkit.checks import run_hidden

    sub, grades = graded[1]["partial"]
    seed, spec, topic = _replay_args(replay(grades[1], sub.course))
    assert seed == grades[1].seed and spec == str(sub.course)
    expected = [(c.name, c.status, c.message) for c in grades[1].checks if c.status != "pass"]
    assert expected and _failing(run_hidden(registry.get(topic), spec, seed=seed)) == expected
