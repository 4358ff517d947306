"""``llmkit run``'s Stage 4-5 (``llmkit.finetune``) on the reference, with a budget of steps, not minutes:
the report folder, reuse of finished steps after an interruption, a user's files, GPT-2 weights, the judge."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from rich.console import Console
from typer.testing import CliRunner

from llmkit import finetune, finetune_data, registry, resolver
from llmkit.cli import app
from llmkit.finetune import CourseRun, FinetuneSettings, run_course
from llmkit.pretrain import TrainSettings

pytestmark = pytest.mark.skipif(not all(registry.get(n).available for n in range(19, 37)),
                                reason="needs topics 19-36")
runner = CliRunner()
TINY_PRETRAIN = TrainSettings(steps=3, d_model=16, num_layers=1, num_heads=2, context_length=96, eval_every=2,
                              eval_batches=2, sample_every=10**9, final_eval_batches=2, sample_tokens=5,
                              plays=["hamlet"])
TINY_FINETUNE = FinetuneSettings(max_examples=12, cls_epochs=1, instr_epochs=1, cls_batch_size=4,
                                 instr_batch_size=4, cls_eval_batches=1, instr_eval_batches=1)
REPORT_FILES = {"pretraining_loss.png", "classification_curves.png", "spam_confusion.png", "instruction_loss.png",
                "instruction_responses.json", "scores.json", "report.json", "report.md", "samples.txt"}


def course(out: Path, **changes) -> tuple[int, str]:
    """Run Stage 4-5 on the reference; ``(exit code, what it printed)``."""
    console = Console(record=True, width=200, force_terminal=False)
    run = CourseRun(out, TINY_PRETRAIN, TINY_FINETUNE, **changes)
    with resolver.session("solutions"):
        code = run_course(run, console)
    return code, console.export_text()


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """One whole tiny run, shared (copied) by the tests that look at or resume it."""
    out = tmp_path_factory.mktemp("course")
    code, text = course(out)
    assert code == 0, text
    return out


def test_chain_writes_the_report_folder(finished):
    report = finished / "report"
    assert REPORT_FILES <= {p.name for p in report.iterdir()}
    responses = json.loads((report / "instruction_responses.json").read_text(encoding="utf-8"))
    assert len(responses) == 12 and all(isinstance(r["model_response"], str) for r in responses)
    assert all("response_before_finetuning" in r and "family" in r for r in responses)
    numbers = json.loads((report / "report.json").read_text())["results"]
    cls = numbers["classification"]
    assert sum(map(sum, cls["confusion"])) == cls["test_messages"] == 12
    assert 0 <= cls["test_accuracy"] <= 1 and 0 <= numbers["instructions"]["exact_after"] <= 1
    assert numbers["evaluation"]["offline"]["summary"]["count"] == 12
    assert set(json.loads((finished / "progress.json").read_text())) == {"pretraining", "classification",
                                                                         "instructions", "evaluation"}
    text = (report / "report.md").read_text()
    assert "spam test accuracy" in text and "instruction exact match" in text and "judge (offline)" in text
    assert "## Spam classifier" in (report / "samples.txt").read_text()


def test_vocabulary_covers_finetuning_and_spells_out_unknown_tokens(finished):
    with resolver.session("solutions"):
        tokenizer, eos = finetune.corpus_tokenizer(finished / "pretrain")
    assert tokenizer.decode([eos]) == "<|endoftext|>" and tokenizer.byte_fallback
    for text in ("WINNER!! txt FREE to 87121 now", "What is the capital of Cuba?"):
        ids = tokenizer.encode(text)
        assert len(ids) == len(tokenizer.inner.encode(text)) and tokenizer.decode(ids) == text  # in the vocabulary
    odd = "Zxqwv \u00e9t\u00e9 \U0001f916 \u4e2d\u6587"  # tokens no vocabulary text has: spelled as bytes
    assert tokenizer.decode(tokenizer.encode(odd)) == odd


def test_the_vocabulary_template_is_topic_31s():
    """The kit restates the Alpaca template (the student release has no reference to import): keep them equal."""
    with resolver.session("solutions"):
        alpaca = resolver.load(registry.get(31))
    entries = finetune_data.instruction_set()
    assert any(e.get("input") for e in entries) and any(not e.get("input") for e in entries)
    for entry in entries:
        assert finetune._alpaca_text(entry) == alpaca.format_example(entry), entry


def test_a_second_run_reuses_every_finished_step(finished, tmp_path):
    out = tmp_path / "again"
    shutil.copytree(finished, out)
    before = (out / "report" / "instruction_responses.json").read_text(encoding="utf-8")
    code, text = course(out)
    assert code == 0, text
    for step in ("pretraining: reusing", "classification: reusing", "instructions: reusing", "evaluation: reusing"):
        assert step in text
    assert (out / "report" / "instruction_responses.json").read_text(encoding="utf-8") == before


def test_interrupted_run_picks_up_where_it_stopped(finished, tmp_path):
    out = tmp_path / "interrupted"
    shutil.copytree(finished, out)
    progress = json.loads((out / "progress.json").read_text())
    for step in ("pretraining", "instructions", "evaluation"):  # as if stopped inside pretraining's last steps
        del progress[step]
    (out / "progress.json").write_text(json.dumps(progress))
    calls = []
    with resolver.session("solutions"):
        t35 = resolver.load(registry.get(35))
        original = t35.train_instructions

        def ctrl_c(*args, **kwargs):
            calls.append(1)
            raise KeyboardInterrupt

        t35.train_instructions = ctrl_c
        try:
            code = run_course(CourseRun(out, TINY_PRETRAIN, TINY_FINETUNE), console := Console(record=True, width=200))
        finally:
            t35.train_instructions = original
    text = console.export_text()
    assert code == 130 and calls == [1], text
    assert "resumed from" in text and "classification: reusing" in text  # the checkpoint, the finished step
    assert "Interrupted after classification" in text
    code, text = course(out)
    assert code == 0, text
    assert "pretraining: reusing" in text and "classification: reusing" in text and "instructions:" in text
    assert "instructions: reusing" not in text


def test_users_spam_file_and_alpaca_json(tmp_path):
    spam = tmp_path / "sms.txt"
    spam.write_text("".join(f"ham\tsee you at {i} \U0001f600\nspam\tWIN \u00a3{i}000 txt Zxqwv now\n"
                            for i in range(30)), encoding="utf-8")
    alpaca = tmp_path / "mine.json"
    alpaca.write_text(json.dumps([{"instruction": f"Say {w}.", "input": "", "output": w}
                                  for w in ("hi", "yo", "\u00e9t\u00e9", "ok") * 8]), encoding="utf-8")
    code, text = course(tmp_path / "out", data=spam, instructions=alpaca)
    assert code == 0, text
    flat = text.replace("\n", "")
    assert f"60 SMS (30 spam) from {spam}" in flat and f"32 instruction records from {alpaca}" in flat
    responses = json.loads((tmp_path / "out" / "report" / "instruction_responses.json").read_text(encoding="utf-8"))
    assert {r["output"] for r in responses} <= {"hi", "yo", "\u00e9t\u00e9", "ok"}


@pytest.mark.parametrize(("flag", "content", "fragment"), [
    ("--data", "ham,hello\nspam,win\n", "label<TAB>text"),
    ("--data", "ham\thello\nham\tagain\n", "only ham"),
    ("--instructions", '[{"instruction": "a", "output": "b"}, {"input": "x"}]', "record 1"),
    ("--instructions", "{not json", "not valid JSON"),
])
def test_malformed_user_file_stops_the_run_before_anything_runs(tmp_path, flag, content, fragment):
    path = tmp_path / "bad.file"
    path.write_text(content)
    result = runner.invoke(app, ["run", "--impl", "solutions", flag, str(path), "--out", str(tmp_path / "out")],
                           env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert fragment in result.output and str(path) in result.output.replace("\n", "")
    assert "pipeline" not in result.output and not (tmp_path / "out").exists()


@pytest.mark.parametrize(("flags", "fragment"), [
    (["--judge", "gpt"], "--judge must be offline or ollama"),
    (["--weights", "/nonexistent/gpt2"], "is not an existing folder"),
    (["--data", "/nonexistent.tsv"], "is not an existing file"),
    (["--max-examples", "0"], "--max-examples must be at least 1"),
])
def test_bad_options_are_one_sentence(flags, fragment, tmp_path):
    result = runner.invoke(app, ["run", "--impl", "solutions", *flags, "--out", str(tmp_path)], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and fragment in result.output, result.output


def write_random_gpt2(folder: Path, vocab_size: int = 50257, d_model: int = 8, layers: int = 1, context: int = 96):
    """A random GPT-2-shaped Hugging Face folder (config.json + model.safetensors), written offline."""
    from safetensors.torch import save_file

    hf = {"vocab_size": vocab_size, "n_positions": context, "n_embd": d_model, "n_head": 2, "n_layer": layers}
    with resolver.session("solutions"):
        from course.t26_gpt2_weights import config_from_hf, gpt2_shapes

        shapes = gpt2_shapes(config_from_hf(hf))
    generator = torch.Generator().manual_seed(0)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(hf))
    save_file({"transformer." + k: 0.05 * torch.randn(s, generator=generator) for k, s in shapes.items()},
              str(folder / "model.safetensors"))


def test_weights_folder_replaces_pretraining(tmp_path):
    write_random_gpt2(tmp_path / "gpt2")
    code, text = course(tmp_path / "out", weights=tmp_path / "gpt2")
    assert code == 0, text
    assert not (tmp_path / "out" / "pretrain").exists() and "corpus:" not in text
    assert "classification:" in text and "instructions:" in text
    assert REPORT_FILES - {"pretraining_loss.png"} <= {p.name for p in (tmp_path / "out" / "report").iterdir()}
    samples = (tmp_path / "out" / "report" / "samples.txt").read_text(encoding="utf-8")
    assert "Every effort moves you" in samples


def test_ollama_judge_that_cannot_answer_keeps_the_offline_scores(finished, tmp_path):
    out = tmp_path / "judged"
    shutil.copytree(finished, out)
    settings = FinetuneSettings(**{**TINY_FINETUNE.__dict__, "judge": "ollama", "ollama_host": "http://127.0.0.1:9"})
    console = Console(record=True, width=200)
    with resolver.session("solutions"):
        code = run_course(CourseRun(out, TINY_PRETRAIN, settings), console)
    text = console.export_text()
    assert code == 1 and "The judge could not score: ollama:llama3.2" in text, text
    scores = json.loads((out / "report" / "scores.json").read_text())
    assert scores["offline"]["summary"]["count"] == 12 and "error" in scores["ollama"]
    recorded = json.loads((out / "progress.json").read_text())["evaluation"]["result"]
    assert "ollama" not in recorded  # not recorded as done: the judge is asked again next time
