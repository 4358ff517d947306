"""The learner's board and the maintenance commands."""

from typer.testing import CliRunner

from llmkit import registry
from llmkit.cli import app
from tests.helpers import TOPICS, copy_reference, only_topic_from, stub_tree

runner = CliRunner()


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
    result = runner.invoke(app, ["run", "--impl", "solutions", "--plot", str(plot)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "matches tiktoken's gpt2 exactly" in result.output
    assert "weight on future tokens 0.0e+00" in result.output
    assert plot.stat().st_size > 10_000


def test_main_job_on_stubs_stops_with_one_sentence(tmp_path):
    result = runner.invoke(app, ["run", "--impl", str(stub_tree(tmp_path))], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert "Stopped after nothing: t02 BPETokenizer.from_gpt2_files: not implemented yet" in result.output


def test_main_job_reports_a_learner_crash_in_one_line(tmp_path):
    topic = registry.get(12)
    module = copy_reference(topic, tmp_path) / topic.module
    module.write_text(module.read_text().replace("return self.out_proj(context)",
                                                 "return self.out_proj(context[..., :5])"))
    result = runner.invoke(app, ["run", "--impl", only_topic_from(topic, tmp_path)], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert "Stopped after Stage 1" in result.output and "raised RuntimeError" in result.output
    assert "multihead_attention.py" in result.output and "Traceback" not in result.output
