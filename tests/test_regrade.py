"""Which topics a fix re-grades: ``autograder.fingerprint`` changes for the fixed topic and those built on it."""

from __future__ import annotations

import shutil

from autograder.fingerprint import KIT_ROOT, check_files, fingerprint
from llmkit import registry


def test_a_fixed_check_changes_its_topic_and_the_topics_built_on_it(tmp_path):
    root = tmp_path / "kit"
    skip = shutil.ignore_patterns("__pycache__", "snapshots", "*.ipynb")
    for folder in ("llmkit", "checks", "autograder/hidden", "solutions"):
        shutil.copytree(KIT_ROOT / folder, root / folder, ignore=skip)
    topics = [registry.get(n) for n in (1, 8, 9, 10, 13)]
    before = {t.code: fingerprint(t, root) for t in topics}
    hidden = root / "autograder" / "hidden" / "t09_qkv_attention.py"
    hidden.write_text(hidden.read_text() + "\n# a fixed check\n")
    fingerprint.cache_clear()
    after = {t.code: fingerprint(t, root) for t in topics}
    assert {code for code in before if before[code] != after[code]} == {"09", "10"}  # t10 builds on t09


def test_check_files_follow_the_imports_of_the_checks():
    names = {str(p.relative_to(KIT_ROOT)) for p in check_files(registry.get(18))}
    assert {"autograder/hidden/t18_gpt_model.py", "checks/t18_gpt_model.py", "llmkit/values.py",
            "llmkit/checks.py"} <= names
    assert not any(n.startswith(("solutions/", "tests/")) for n in names)


def test_grading_again_reuses_results_until_the_topics_checks_change(tmp_path, monkeypatch):
    import autograder.grade as grade_module
    from autograder.grade import Config, Grader
    from autograder.sandbox import Limits
    from tests.helpers import copy_reference

    t01 = registry.get(1)
    copy_reference(t01, tmp_path / "alice" / "course")
    config = Config(tmp_path / "grading", "fallback", 1, [t01], Limits(wall_s=120, cpu_s=120))
    first = Grader(config).grade([tmp_path / "alice"], ["alice"])["alice"][1][1]
    again = Grader(config).grade([tmp_path / "alice"], ["alice"])["alice"][1][1]
    assert again.seed == first.seed  # reused: nothing changed
    monkeypatch.setattr(grade_module, "fingerprint", lambda topic: "a-fixed-check")
    regraded = Grader(config).grade([tmp_path / "alice"], ["alice"])["alice"][1][1]
    assert regraded.seed != first.seed and regraded.score == first.score == t01.points
