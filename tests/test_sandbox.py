"""The grader against hostile submissions and hostile installs (issue 11): one test per finding.

Each submission is the correct-but-different topic-01 implementation from
``tests/alternatives`` (or the generated stubs) with an attack added; the
grading runs are shared by module-scoped fixtures. The findings:

* a kit installed in a private (0700) folder, graded as root, gave every correct topic 0
  -> ``test_a_kit_in_a_private_folder_grades_correctly``;
* reference copies elsewhere on the host (a world-readable folder, site-packages after a
  non-editable install) were readable -> ``test_reference_copies_elsewhere_on_the_host_are_out_of_reach``;
* ``/tmp``, ``/var/tmp``, ``/dev/shm`` and SysV IPC were shared and outlived the run
  -> ``test_temporary_files_and_ipc_never_reach_the_next_submission``;
* learner text reached feedback as many lines, escape sequences and reference source
  -> ``test_feedback_is_one_clean_line_per_check``, ``test_feedback_never_quotes_the_reference``;
* error-behaviour checks scored on untouched stubs -> ``test_error_checks_never_score_on_their_own``;
* malformed archives stopped the class -> ``test_a_malformed_archive_costs_only_its_own_submission``;
* ``os.setsid`` children outlived the run -> ``test_no_process_outlives_the_run``,
  ``test_ctrl_c_leaves_no_process_or_folder``;
* forged results with huge numbers, links in the worker's folder
  -> ``test_forged_or_linked_results_get_a_clear_reason``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from autograder.grade import Config, Grader
from autograder.sandbox import Limits, detect
from autograder.submission import submission_id
from llmkit import registry, stubgen
from llmkit.resolver import named_root
from tests.test_grader import FORGE, _submission

T01, T02 = registry.get(1), registry.get(2)
REFERENCE_T01 = named_root("solutions") / "t01_tokenizer" / "tokenizer.py"
ESCAPEE = "llmkit-escapee"  # the process name a setsid escape gives itself
TOKEN = f"llmkit-leak-{os.getpid()}"
LEAK_PATHS = [f"/tmp/{TOKEN}", f"/var/tmp/{TOKEN}", f"/dev/shm/{TOKEN}"]
SHM_KEY = 0x11A7 + os.getpid() % 1000

needs_isolation = pytest.mark.skipif(detect() == "none", reason="needs a sandbox")


def _limits() -> Limits:
    return Limits(wall_s=20, cpu_s=20, memory_mb=3072, output_mb=2)


def _grade(sources: list[Path], out: Path, topics=(T01,), jobs: int = 2, mode: str = "fallback", on_topic=None):
    taken: set[str] = set()
    ids = [submission_id(s, taken) for s in sources]
    grader = Grader(Config(out, mode, jobs, list(topics), _limits()), on_topic)
    return grader.grade(sources, ids), grader


def _stubs(root: Path, name: str, init_code: str) -> Path:
    """A submission of untouched t01 stubs plus ``init_code``."""
    course = root / name / "course"
    stubgen.write_stubs([T01], course)
    init = course / "t01_tokenizer" / "__init__.py"
    init.write_text(init.read_text() + "\n" + init_code + "\n")
    return root / name


def _escapees() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == ESCAPEE:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def _no_escapees_within(seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _escapees()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def _text(grade) -> str:
    return grade.reason + " " + " ".join(f"{c.name}: {c.message}" for c in grade.checks)


# a copy of the reference t01 in a folder every user can read, outside the kit
@pytest.fixture(scope="module")
def host_copy():
    folder = Path(tempfile.mkdtemp(prefix="llmkit-host-copy-"))
    os.chmod(folder, 0o755)
    shutil.copytree(named_root("solutions") / "t01_tokenizer", folder / "t01_tokenizer")
    # ... and a non-editable install's site-packages, which holds the kit's `solutions` package
    packages = folder / "lib" / "site-packages"
    shutil.copytree(named_root("solutions") / "t01_tokenizer", packages / "solutions" / "t01_tokenizer")
    (packages / "solutions" / "__init__.py").write_text("")
    for path in [folder, *folder.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


# the worker process itself leaves its session (so a process-group kill misses it), starts children
# that rename themselves, and hangs until the wall-clock limit
ESCAPE = f"""import ctypes, os, time
try:
    os.setsid()
except OSError:
    pass
for _ in range(3):
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, b"{ESCAPEE}", 0, 0, 0)
        time.sleep(300)
        os._exit(0)
while True:
    pass"""

# a stub that looks for a reference copy wherever the host keeps one, and runs it as its own code
STEAL = """import os, sys
for _folder in [*{places!r}, *sys.path]:
    _path = os.path.join(str(_folder), {inside!r})
    if os.path.exists(_path):
        exec(open(_path).read())
        break"""

# patch the probe runner: the error-behaviour check runs on a fake whose decode only raises
CONSTANT_ERRORS = """import llmkit.checks as _checks
_real = _checks.run_probe
class _Fake:
    @staticmethod
    def build_vocab(words):
        return {w: i for i, w in enumerate(list(dict.fromkeys(words)) + ['<|endoftext|>', '<|unk|>'])}
    class SimpleTokenizer:
        def __init__(self, vocab):
            self.vocab = vocab
        def decode(self, ids):
            raise KeyError(list(ids)[-1])
def _forge(chk, module, seed, timeout=0):
    return _real(chk, _Fake if chk.name == 'decode_unknown_id' else module, seed)
_checks.run_probe = _forge"""

LINKS = f"""import os
for folder in ('.', '/tmp', '/llmkit-run'):
    for name in ('result.json', 'stdout.txt', 'stderr.txt', 'result.json.tmp'):
        try:
            os.symlink({str(REFERENCE_T01)!r}, os.path.join(folder, name))
        except OSError:
            pass
os._exit(0)"""

CASES = {
    "correct": {},
    "escape": {"init_code": ESCAPE},
    "huge_int": {"init_code": FORGE.format(results="{n: {'status': 'ok', 'value': [], 'message': '',"
                                                   " 'seconds': 10**400} for n in CHECKS}")},
    "links": {"init_code": LINKS},
    # attacks on the fork server: write to every descriptor the worker might have inherited (the
    # grader's socket, another run's status pipe), signal every process it can see
    "fd_spray": {"init_code": "import os\nfor fd in range(3, 1024):\n    try:\n"
                              "        os.write(fd, b'{\"started\": false, \"code\": 0}\\n')\n"
                              "    except OSError:\n        pass\nos._exit(0)"},
    "kill_all": {"init_code": "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n"
                              "    pass"},
    "noisy": {"replace": ("    def encode(self, text):\n",
                          "    def encode(self, text):\n"
                          "        raise NotImplementedError('line one\\nline two\\n' + 'x' * 5000)\n"),
              "init_code": "import course.t01_tokenizer.tokenizer as _m\n"
                           "def _boom(self, ids):\n"
                           "    raise RuntimeError('\\x1b[2J\\x1b]0;owned\\x07 boom \\u202e\\x00 \\x9b31m done')\n"
                           "_m.SimpleTokenizer.decode = _boom"},
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, host_copy):
    root = tmp_path_factory.mktemp("hostile")
    out = tmp_path_factory.mktemp("hostile-grading")
    sources = [_submission(root, name, **spec) for name, spec in CASES.items()]
    # untouched stubs whose only "work" is a patched probe runner for the error-handling check,
    # or code that finds a reference copy on the host (a folder anyone can read, site-packages)
    sources.append(_stubs(root, "constant_errors", CONSTANT_ERRORS))
    sources.append(_stubs(root, "host_copy", STEAL.format(places=[str(host_copy)],
                                                          inside="t01_tokenizer/tokenizer.py")))
    sources.append(_stubs(root, "site_packages_copy", STEAL.format(places=[],
                                                                   inside="solutions/t01_tokenizer/tokenizer.py")))
    with pytest.MonkeyPatch.context() as mp:
        packages = str(host_copy / "lib" / "site-packages")
        mp.setattr(sys, "path", [*sys.path, packages])  # after the kit's own: a second copy
        mp.setattr(site, "getsitepackages", lambda real=site.getsitepackages: [*real(), packages])
        results, grader = _grade(sources, out)
    return results, grader.workers_root is not None and grader.workers_root.exists()


def _of(hostile, name):
    return hostile[0][name][1][1]


def test_every_hostile_submission_is_graded_without_a_grader_error(hostile):
    results, left = hostile
    assert set(results) == {*CASES, "constant_errors", "host_copy", "site_packages_copy"}
    for sid, (_sub, grades) in results.items():
        assert grades[1].status in ("graded", "fault", "missing", "error"), (sid, grades[1])
        assert "grader error" not in grades[1].reason and "grader fault" not in grades[1].reason, sid
    assert _of(hostile, "correct").score == 10.0
    assert not left, "the grader's temporary folder was left behind"


@needs_isolation
@pytest.mark.parametrize("name", ["host_copy", "site_packages_copy"])
def test_reference_copies_elsewhere_on_the_host_are_out_of_reach(hostile, name):
    grade = _of(hostile, name)
    assert grade.score == 0.0  # the stubs' own score: no copy was found
    assert all(c.status == "todo" for c in grade.checks)


@needs_isolation
def test_no_process_outlives_the_run(hostile):
    assert "timed out" in _of(hostile, "escape").reason
    assert not _no_escapees_within(5), "a child of a worker that left its session still runs after grading"


def test_forged_or_linked_results_get_a_clear_reason(hostile):
    huge = _of(hostile, "huge_int")
    assert huge.score == 0.0 and huge.status == "fault" and "malformed results" in huge.reason
    links = _of(hostile, "links")
    assert links.score == 0.0 and links.status == "fault" and "without writing results" in links.reason
    assert "def " not in _text(links)


def test_the_fork_server_survives_its_children(hostile):
    spray = _of(hostile, "fd_spray")  # only its own result file took the bytes: results without checks
    assert spray.score == 0.0 and "grader fault" not in spray.reason
    assert all("no result for this check" in c.message for c in spray.checks)
    assert _of(hostile, "kill_all").score == 10.0  # it reached no process but its own


def test_feedback_is_one_clean_line_per_check(hostile):
    grade = _of(hostile, "noisy")
    lines = [grade.reason, *(c.message for c in grade.checks)]
    assert any("line one" in line for line in lines) and any("boom" in line for line in lines)
    for line in lines:
        assert "\n" not in line and len(line) <= 300, line
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e]", line), repr(line)


def test_error_checks_never_score_on_their_own(hostile):
    grade = _of(hostile, "constant_errors")
    assert {c.name for c in grade.checks if c.status == "pass"} == {"decode_unknown_id"}  # forged...
    assert grade.score == 0.0  # ...but it counts only as far as the behaviour checks pass: not at all
    assert "error-handling checks count 0%" in grade.reason


def test_a_malformed_archive_costs_only_its_own_submission(tmp_path):
    """Names no file system takes and a file where a folder should be, around a good t01: the
    archive's good files are graded, the rest are notes; the other submission is graded too."""
    good = _submission(tmp_path / "zipsrc", "malformed")
    archive = tmp_path / "malformed.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in good.rglob("*.py"):
            zf.write(path, path.relative_to(good))
        zf.writestr("course/\x1b[31m" + "a" * 300 + ".py", "x = 1")
        zf.writestr("course/" + "/".join(["d" * 200] * 25) + "/x.py", "x = 1")
        zf.writestr("course/notes", "a file")
        zf.writestr("course/notes/x.py", "x = 1")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + os.urandom(200))
    other = _submission(tmp_path / "src", "other")
    results, grader = _grade([archive, broken, other], tmp_path / "out", jobs=1)
    assert results["malformed"][1][1].score == 10.0 and results["other"][1][1].score == 10.0
    assert results["broken"][1][1].status == "error" and results["broken"][1][1].reason
    notes = " ".join(results["malformed"][0].notes)
    assert "longer than 255 bytes" in notes and "path is longer" in notes and "is a file, not a folder" in notes
    assert "\x1b" not in notes
    assert grader.workers_root is not None and not grader.workers_root.exists()


# ----------------------------------------------------------------------------- temporary files and IPC

PLANT = f"""import ctypes, os
for path in {LEAK_PATHS!r}:
    try:
        with open(path, 'w') as f:
            f.write('reference code for later')
        os.chmod(path, 0o666)
    except OSError:
        pass
ctypes.CDLL(None).shmget({SHM_KEY}, 4096, 0o1000 | 0o666)"""

LOOK = f"""import ctypes, os
seen = [p for p in {LEAK_PATHS!r} if os.path.exists(p)]
if ctypes.CDLL(None).shmget({SHM_KEY}, 0, 0) >= 0:
    seen.append('SysV shared memory {SHM_KEY}')
if seen:
    raise RuntimeError('found what another submission left: ' + ', '.join(seen))"""


def _host_ipc_keys() -> set[int]:
    try:
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return set()
    return {int(line.split()[0]) for line in lines if line.split()}


@needs_isolation
def test_temporary_files_and_ipc_never_reach_the_next_submission(tmp_path):
    sources = [_submission(tmp_path / "src", "a_plants", init_code=PLANT),
               _submission(tmp_path / "src", "b_looks", init_code=LOOK)]
    results, _ = _grade(sources, tmp_path / "out", jobs=1)
    try:
        assert results["a_plants"][1][1].score == 10.0
        assert results["b_looks"][1][1].score == 10.0, _text(results["b_looks"][1][1])
        assert not [p for p in LEAK_PATHS if os.path.exists(p)]
        assert SHM_KEY not in _host_ipc_keys()
    finally:
        for path in LEAK_PATHS:
            if os.path.exists(path):
                os.unlink(path)


# ----------------------------------------------------------------------------- reference text in feedback

QUOTE = """import course.t01_tokenizer as _t01, os, re
_source = open(os.path.join(os.path.dirname(_t01.__file__), 'tokenizer.py')).read()
_code = re.findall(r'### BEGIN SOLUTION\\n(.*?)### END SOLUTION', _source, flags=re.S)
raise NotImplementedError(' '.join(' '.join(_code).split())[:2000] or 'no reference here')"""


@needs_isolation
def test_feedback_never_quotes_the_reference(tmp_path):
    """Fallback mode: a learner who failed t01 gets the reference t01 in t02's worker, reads
    its source and raises it as a message. The feedback must not carry it."""
    course = tmp_path / "src" / "quoter" / "course"
    _submission(tmp_path / "src", "quoter", replace=('r"\\1", text)', 'r" \\1", text)'))  # t01 fails
    stubgen.write_stubs([T02], course)
    init = course / "t02_bpe" / "__init__.py"
    init.write_text(QUOTE + "\n" + init.read_text())
    results, _ = _grade([course.parent], tmp_path / "out", topics=(T01, T02), jobs=1)
    grade = results["quoter"][1][2]
    assert grade.replaced == ["t01"] and grade.score == 0.0
    text = _text(grade)
    assert "message withheld" in text
    solution = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", REFERENCE_T01.read_text(), flags=re.S)
    code_lines = [line.strip() for region in solution for line in region.splitlines()
                  if len(line.strip()) > 20 and not line.strip().startswith(("#", '"', "'"))]
    assert code_lines and not [line for line in code_lines if line in text]


# ----------------------------------------------------------------------------- Ctrl-C


@needs_isolation
def test_ctrl_c_leaves_no_process_or_folder(tmp_path):
    hang = _submission(tmp_path / "src", "b_hangs", init_code=ESCAPE)
    fast = _submission(tmp_path / "src", "a_fast")

    def interrupt(sub, grade):  # once the hanging submission's escape is running
        deadline = time.monotonic() + 60
        while not _escapees() and time.monotonic() < deadline:
            time.sleep(0.1)
        raise KeyboardInterrupt

    grader = Grader(Config(tmp_path / "out", "fallback", 2, [T01], _limits()), interrupt)
    with pytest.raises(KeyboardInterrupt):
        grader.grade([fast, hang], ["a_fast", "b_hangs"])
    assert not _no_escapees_within(5)
    assert grader.workers_root is not None and not grader.workers_root.exists()


# ----------------------------------------------------------------------------- a kit in a private folder

GRADE_ONE = """
import json, sys
from pathlib import Path
from autograder.grade import Config, Grader, GraderFault
from autograder.sandbox import Limits
from llmkit import registry
config = Config(Path(sys.argv[2]), "fallback", 1, [registry.get(1)], Limits(wall_s=60, cpu_s=60))
grader = Grader(config)
try:
    grade = grader.grade([Path(sys.argv[1])], ["alice"])["alice"][1][1]
    print(json.dumps({"level": grader.level, "score": grade.score, "status": grade.status, "reason": grade.reason}))
except GraderFault as exc:
    print(json.dumps({"level": grader.level, "fault": str(exc)}))
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")
def test_a_kit_in_a_private_folder_grades_correctly(tmp_path):
    """The virtual environment behind a 0700 folder (a private home), graded as root: a correct
    submission gets full marks (the issue's first bug gave it 0, blamed on the student). The weaker
    levels cannot run such an interpreter as the worker's uid: there the canary stops the run with
    one sentence, and nobody gets a zero."""
    venv = Path(sys.prefix)
    if venv == Path(sys.base_prefix):
        pytest.skip("needs the kit's virtual environment")
    private = tmp_path / "home"
    (private / "venv").mkdir(parents=True)
    os.chmod(private, 0o700)
    sub = _submission(tmp_path / "src", "alice")
    script = tmp_path / "grade_one.py"
    script.write_text(GRADE_ONE)
    python = private / "venv" / "bin" / "python"
    # a private mount namespace: the real venv appears inside the 0700 folder, for this process only
    kit = named_root("solutions").parent
    command = (f"mount --bind {venv} {private / 'venv'} && cd {kit} && "
               f"PYTHONPATH={kit} exec {python} {script} {sub} {tmp_path / 'out'}")
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", command],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["level"] == "bwrap":
        assert result.get("score") == 10.0, result
    else:
        assert "could not grade the kit's own reference" in result.get("fault", ""), result


def test_one_line_strips_escapes_and_caps_length():
    from autograder.grade import one_line

    assert one_line("\x1b[31mred\x1b[0m\nsecond line") == "red"
    assert one_line("a\u202eb\x07c") == "abc"
    assert len(one_line("x" * 5000)) == 300
