"""The learner's board and the maintenance commands."""

import re
import shlex

from typer.testing import CliRunner

from llmkit import registry
from llmkit.checks import public_checks, run_hidden, run_public
from llmkit.cli import app
from tests.helpers import TOPICS, copy_reference, only_topic_from, stub_tree

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
T01 = registry.get(1)
# bugs planted by wrapping t01's documented decode, so they survive edits of the reference:
# decode raises with Rich markup in its message - several checks fail with learner-controlled text
DECODE_RAISES = """
def _decode(self, ids):
    raise ValueError("[red]not[/red] done [/]")
SimpleTokenizer.decode = _decode
"""
# decode drops the sixth character - hidden checks fail with messages that quote their random inputs
DECODE_DROPS = """
_reference_decode = SimpleTokenizer.decode
def _decode(self, ids):
    text = _reference_decode(self, ids)
    return text[:5] + text[6:]
SimpleTokenizer.decode = _decode
"""
# decode fails with a draw from torch's global generator in its message, as nn.Dropout draws its masks
DECODE_DRAWS = """
import torch
def _decode(self, ids):
    raise ValueError(f"drew {torch.rand(1).item()}")
SimpleTokenizer.decode = _decode
"""


def test_board_on_fresh_stubs_shows_nothing_passing(tmp_path):
    result = runner.invoke(app, ["check", "--impl", str(stub_tree(tmp_path))], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert f"0 of {len(TOPICS)} topics passing" in result.output
    assert "not implemented yet" in result.output


def test_board_on_reference_passes_everything():
    result = runner.invoke(app, ["check", "--impl", "solutions"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert f"{len(TOPICS)} of {len(TOPICS)} topics passing" in result.output


def test_board_advises_fixing_a_failing_prerequisite_first(tmp_path):
    dependent = next((t for t in TOPICS if t.prereqs), None)
    if dependent is None:
        return
    stubs = stub_tree(tmp_path)
    result = runner.invoke(app, ["check", dependent.code, "--impl", str(stubs)], env={"COLUMNS": "250"})
    prereq = registry.get(dependent.prereqs[0])
    assert "advice" in result.output and f"t{prereq.code}" in result.output


def test_unknown_topic_is_a_clear_error():
    result = runner.invoke(app, ["check", "99"])
    assert result.exit_code == 2 and "unknown topic" in result.output


def test_stubs_and_snapshots_are_reported_up_to_date():
    assert runner.invoke(app, ["stubs", "--check"]).exit_code == 0


def test_main_job_runs_on_the_reference_and_plots(tmp_path):
    plot = tmp_path / "attention.png"
    result = runner.invoke(app, ["run", "--impl", "solutions", "--plot", str(plot), "--steps", "2",
                                 "--max-examples", "8", "--out", str(tmp_path / "run")], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "matches tiktoken's gpt2 exactly" in result.output
    assert "weight on future tokens 0.0e+00" in result.output
    assert "124,439,808 parameters with tied weights, 163,037,184 untied" in result.output
    assert "t13's formula agrees" in result.output and "near uniform" in result.output
    assert "Done: Stage 3" in result.output and "Done: Stage 4" in result.output
    assert "Done: Stage 5" in result.output
    assert plot.stat().st_size > 10_000


def test_main_job_on_stubs_stops_with_one_sentence(tmp_path):
    result = runner.invoke(app, ["run", "--impl", str(stub_tree(tmp_path))], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert "Stopped in Stage 1: t02 BPETokenizer.from_gpt2_files: not implemented yet" in result.output


def test_main_job_reports_a_learner_crash_in_one_line(tmp_path):
    topic = registry.get(12)
    module = copy_reference(topic, tmp_path) / topic.module
    module.write_text(module.read_text().replace("return self.out_proj(context)",
                                                 "return self.out_proj(context[..., :5])"))
    result = runner.invoke(app, ["run", "--impl", only_topic_from(topic, tmp_path)], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert "Stopped after Stage 1" in result.output and "raised RuntimeError" in result.output
    assert "multihead_attention.py" in result.output and "Traceback" not in result.output


def _t01_with(bug: str, tmp_path) -> str:
    """A folder holding the reference t01 with ``bug`` appended to its module."""
    module = copy_reference(T01, tmp_path / "bug") / T01.module
    module.write_text(module.read_text() + bug)
    return str(tmp_path / "bug")


def _listed(output: str) -> list[str]:
    """The lines ``--all`` prints for failing checks."""
    return [line.strip() for line in output.splitlines() if re.match(r"\s+(FAIL|ERROR|TODO|TIMEOUT)\s", line)]


def test_all_lists_every_failing_check_after_the_board(tmp_path):
    t08 = registry.get(8)
    spec = f"{stub_tree(tmp_path / 'stubs')},1={_t01_with(DECODE_RAISES, tmp_path)}"  # t08: an untouched stub
    failing = {t: [r for r in run_public(t, spec) if not r.passed] for t in (T01, t08)}
    assert 2 <= len(failing[T01]) < len(public_checks(T01)) and len(failing[t08]) == len(public_checks(t08))
    board = runner.invoke(app, ["check", "1", "8", "--impl", spec], env=WIDE)
    listed = runner.invoke(app, ["check", "1", "8", "--all", "--impl", spec], env=WIDE)
    assert listed.exit_code == board.exit_code == 1, listed.output
    assert "0 of 2 topics passing" in listed.output
    assert f"t01 {T01.title}: {len(failing[T01])} of {len(public_checks(T01))} checks fail" in listed.output
    assert len(_listed(listed.output)) == len(failing[T01]) + len(failing[t08])  # failing checks only
    for r in failing[T01] + failing[t08]:  # each with its message; learner markup shown as typed
        assert f"{r.check.name}: {r.message}" in listed.output
    assert all("[red]not[/red] done [/]" in r.message for r in failing[T01])
    assert not _listed(board.output) and f"{failing[T01][1].check.name}:" not in board.output  # board unchanged


def test_seed_without_hidden_is_a_clear_error():
    result = runner.invoke(app, ["check", "1", "--seed", "7"])
    assert result.exit_code == 2 and "--hidden" in result.output and "fixed seeds" in result.output


def test_hidden_run_prints_its_seed_and_the_seed_replays_it(tmp_path):
    spec = only_topic_from(T01, _t01_with(DECODE_DROPS, tmp_path))
    first = runner.invoke(app, ["check", "1", "--hidden", "--all", "--impl", spec], env=WIDE)
    assert first.exit_code == 1, first.output
    match = re.search(r"^hidden checks ran on seed (\d+) - replay: (.+)$", first.output, re.MULTILINE)
    assert match, first.output
    seed, argv = int(match[1]), shlex.split(match[2])
    assert argv[:5] == ["llmkit", "check", "--hidden", "--seed", str(seed)]
    expected = [r for r in run_hidden(T01, spec, seed=seed) if not r.passed]
    assert expected and _listed(first.output) and len(_listed(first.output)) == len(expected)
    for r in expected:
        assert f"{r.check.name}: {r.message}" in first.output
    again = runner.invoke(app, argv[1:], env=WIDE)
    assert _listed(again.output) == _listed(first.output)
    assert f"hidden checks ran on seed {seed} - replay: {match[2]}" in again.output
    other = runner.invoke(app, ["check", "1", "--hidden", "--all", "--seed", str(seed + 1), "--impl", spec], env=WIDE)
    assert _listed(other.output) != _listed(first.output)  # the seed decides the inputs


def test_seed_replay_pins_torch_global_generator_too(tmp_path):
    """Dropout masks come from torch's global generator, not from the probe's Rng: a replay pins it as well."""
    import torch

    spec = only_topic_from(T01, _t01_with(DECODE_DRAWS, tmp_path))
    runs = []
    for start in (1, 2):  # every process starts torch's generator at another, random state
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(start)
            runs.append(runner.invoke(app, ["check", "1", "--hidden", "--all", "--seed", "11", "--impl", spec],
                                      env=WIDE))
    assert "drew 0." in runs[0].output and _listed(runs[0].output) == _listed(runs[1].output)
