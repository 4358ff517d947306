"""The main job's pretraining (``llmkit train``) on the reference: it trains, saves, resumes exactly, writes."""

from __future__ import annotations

import os
import signal

import pytest
import torch
from typer.testing import CliRunner

from llmkit import pretrain, registry, resolver, textgen
from llmkit.cli import app
from tests.helpers import stub_tree

runner = CliRunner()
STAGE4 = [19, 20, 21, 22, 24, 25]
pytestmark = pytest.mark.skipif(not all(registry.get(n).available for n in STAGE4),
                                reason="needs topics 19-25")
SMALL = ["--impl", "solutions", "--play", "hamlet", "--d-model", "32", "--num-layers", "1", "--num-heads", "2",
         "--context-length", "32", "--batch-size", "4", "--eval-every", "3", "--sample-every", "3",
         "--dropout", "0.1"]  # dropout draws from the global RNG: a resumed run must restore it


def train(out, *flags: str):
    return runner.invoke(app, ["train", "--out", str(out), *SMALL, *flags], env={"COLUMNS": "200"})


def weights(out) -> dict[str, torch.Tensor]:
    """The model state stored in a run's checkpoint, read with the reference topic 25."""
    with resolver.session("solutions"):
        model, _ = textgen.from_checkpoint(out / pretrain.CHECKPOINT)
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_train_writes_checkpoint_curve_and_samples(tmp_path):
    result = train(tmp_path, "--steps", "6")
    assert result.exit_code == 0, result.output
    assert "unigram distribution scores a validation loss of" in result.output
    assert "step 3, sample:" in result.output and "validation loss" in result.output
    for name in (pretrain.CHECKPOINT, pretrain.RUN_FILE, pretrain.CURVE):
        assert (tmp_path / name).stat().st_size > 0
    written = runner.invoke(app, ["generate", "--impl", "solutions", "--checkpoint", str(tmp_path / pretrain.CHECKPOINT),
                                  "--max-new-tokens", "5", "HAMLET:"])
    assert written.exit_code == 0, written.output
    assert written.output.startswith("HAMLET:")


def test_interrupted_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    assert train(straight, "--steps", "8").exit_code == 0
    original = pretrain.batches

    def ctrl_c_at_step_5(loader, start_step):
        for i, batch in enumerate(original(loader, start_step)):
            if i == 4:
                os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C: the loop finishes this step, then stops
            yield batch

    monkeypatch.setattr(pretrain, "batches", ctrl_c_at_step_5)
    stopped = train(interrupted, "--steps", "8")
    assert stopped.exit_code == 130 and "Interrupted at step 5" in stopped.output, stopped.output
    monkeypatch.setattr(pretrain, "batches", original)
    resumed = runner.invoke(app, ["train", "--out", str(interrupted), "--resume", "--impl", "solutions"])
    assert resumed.exit_code == 0 and "resumed from" in resumed.output, resumed.output
    a, b = weights(straight), weights(interrupted)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_without_a_run_and_generate_without_a_model_are_clear(tmp_path):
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "none"), "--resume", "--impl", "solutions"])
    assert result.exit_code == 2 and "no checkpoint" in result.output
    result = runner.invoke(app, ["generate", "--impl", "solutions", "hello"])
    assert result.exit_code == 2 and "exactly one of --weights" in result.output
    result = runner.invoke(app, ["generate", "--impl", "solutions", "--weights", str(tmp_path), "hello"])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_train_on_stubs_stops_with_one_sentence(tmp_path):
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "run"), *SMALL[2:], "--steps", "2",
                                 "--impl", str(stub_tree(tmp_path / "stubs"))], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "Pretraining needs: t" in result.output and "not implemented yet" in result.output, result.output
