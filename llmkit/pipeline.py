"""``llmkit run``: the course's main job, on whatever implementation is chosen.

It runs the pipeline built so far - Stage 1: raw Shakespeare text -> GPT-2
BPE token ids -> input/target windows -> embeddings ready for a model; Stage 2:
causal multi-head attention over those embeddings; Stage 3: GPT-2 small built
from the learner's own topics, its size, its memory, and its first loss; Stage
4: a small GPT pretrained on the whole corpus (``llmkit.pretrain``); Stage 5:
that model finetuned to classify spam and to follow instructions, then
evaluated, with a report folder (``llmkit.finetune``) - and prints what each
step produced. A hole that is not written yet stops the run with one sentence
naming the function to write; the steps already done are still shown.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from llmkit import data, registry, resolver
from llmkit.checks import describe_exception
from llmkit.finetune import CourseRun, course_settings, run_course

CONTEXT = 256  # tokens per training window for the demo
D_MODEL = 768  # GPT-2 small's width
HEADS = 12  # GPT-2 small's number of attention heads


def _stage1(play: str, table: Table, console: Console) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Text -> ids -> windows -> embeddings.

    Returns ``(embeddings (8, CONTEXT, D_MODEL), the first batch (inputs, targets) stacked
    as (2, 8, CONTEXT), the first tokens as text)``.
    """
    bpe = resolver.load(registry.get(2))
    loader_topic = resolver.load(registry.get(3))
    pipeline = resolver.load(registry.get(6))

    text = data.shakespeare(play)
    table.add_row("raw text", f"{len(text):,} characters, {len(text.encode()):,} bytes")

    with console.status("loading GPT-2's BPE files (topic 02)"):
        tokenizer = bpe.load_gpt2_tokenizer()
    with console.status(f"tokenizing {play} with your BPE (topic 02)"):
        start = time.perf_counter()
        ids = tokenizer.encode(text)
        seconds = time.perf_counter() - start
    reference = data.tiktoken_gpt2().encode(text, allowed_special="all")
    parity = "matches tiktoken's gpt2 exactly" if ids == reference else "DIFFERS from tiktoken's gpt2"
    table.add_row("BPE tokens (t02)",
                  f"{len(ids):,} tokens in {seconds:.2f} s, {len(text.encode()) / len(ids):.2f} bytes/token; "
                  f"{parity}")

    loader = loader_topic.create_dataloader(text, batch_size=8, max_length=CONTEXT, stride=CONTEXT,
                                            shuffle=True, seed=0)
    inputs, targets = next(iter(loader))
    table.add_row("windows (t03)", f"{len(loader.dataset):,} windows of {CONTEXT} tokens -> "
                  f"{len(loader):,} batches; inputs {tuple(inputs.shape)}, targets {tuple(targets.shape)}")
    first_ids = inputs[0, :24].tolist()
    table.add_row("first window", repr(tokenizer.decode(first_ids)) + " ...")
    first_tokens = [tokenizer.decode([i]) for i in first_ids]

    embedding = pipeline.InputEmbedding(vocab_size=50257, context_length=1024, d_model=D_MODEL, dropout=0.1)
    embedding.eval()
    vectors = embedding(inputs)
    n_params = sum(p.numel() for p in embedding.parameters())
    table.add_row("embeddings (t04-t06)",
                  f"{tuple(vectors.shape)} (batch, seq, d_model); {n_params:,} parameters; "
                  f"mean {vectors.mean().item():+.3f}, std {vectors.std().item():.3f}")
    return vectors, torch.stack([inputs, targets]), first_tokens


@torch.no_grad()
def _stage2(vectors: torch.Tensor, table: Table) -> torch.Tensor:
    """Causal multi-head attention (t12, on t10/t11) over the embeddings; returns head weights."""
    attention = resolver.load(registry.get(12))
    mha = attention.MultiHeadAttention(D_MODEL, D_MODEL, 1024, dropout=0.1, num_heads=HEADS).eval()
    start = time.perf_counter()
    out = mha(vectors)
    seconds = time.perf_counter() - start
    weights = mha.attention_weights(vectors)  # (batch, heads, seq, seq)
    seq = vectors.shape[1]
    future = torch.triu(torch.ones(seq, seq, dtype=torch.bool), diagonal=1)
    leaked = weights[..., future].abs().max().item()
    table.add_row("attention (t10-t12)",
                  f"{HEADS} heads: {tuple(vectors.shape)} -> {tuple(out.shape)} in {seconds:.2f} s; "
                  f"weight on future tokens {leaked:.1e} (must be 0); "
                  f"rows sum to 1 within {(weights.sum(-1) - 1).abs().max().item():.1e}")
    return weights


FORWARD_ROWS = 2  # windows of the first batch run through GPT-2 small (the forward pass is the slow step)


@torch.no_grad()
def _stage3(batch: torch.Tensor, table: Table, console: Console) -> None:
    """GPT-2 small from the learner's topics 13-18: size, memory, one forward pass, the first loss."""
    from dataclasses import replace

    config_topic = resolver.load(registry.get(13))
    model_topic = resolver.load(registry.get(18))
    config = config_topic.gpt2_config("124M")
    untied_config = replace(config, tie_weights=False)
    with console.status("building GPT-2 small (124M parameters) from your topics 13-18"):
        model = model_topic.GPTModel(config).eval()
        with torch.device("meta"):  # shapes only: counting needs no memory
            untied = model_topic.count_parameters(model_topic.GPTModel(untied_config))
    tied = model_topic.count_parameters(model)
    formula = (config_topic.count_parameters(config), config_topic.count_parameters(untied_config))
    agree = "t13's formula agrees" if formula == (tied, untied) else (
        f"t13's formula DIFFERS: {formula[0]:,} / {formula[1]:,}")
    table.add_row("GPT-2 small (t13-t18)",
                  f"{config.num_layers} blocks, d_model {config.d_model}, {config.num_heads} heads: "
                  f"{tied:,} parameters with tied weights, {untied:,} untied (published: 124,439,808 / "
                  f"163,037,184); {agree}")
    mib = [model_topic.parameter_memory(model, dtype) / 2**20 for dtype in (torch.float32, torch.bfloat16)]
    table.add_row("memory", f"parameters take {mib[0]:,.0f} MiB in float32, {mib[1]:,.0f} MiB in bfloat16")
    inputs, targets = batch[0, :FORWARD_ROWS], batch[1, :FORWARD_ROWS]
    with console.status(f"forward pass of {FORWARD_ROWS} x {inputs.shape[1]} tokens through GPT-2 small"):
        start = time.perf_counter()
        logits = model(inputs)
        seconds = time.perf_counter() - start
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), targets.flatten()).item()
    uniform = math.log(config.vocab_size)
    table.add_row("first loss (untrained)",
                  f"logits {tuple(logits.shape)} in {seconds:.1f} s; cross-entropy {loss:.3f} vs "
                  f"ln({config.vocab_size:,}) = {uniform:.3f} for a uniform guess "
                  + ("(near uniform, as it should be before training)" if abs(loss - uniform) < 1.0 else
                     "(far from uniform: check the initialization, GPT-2 uses N(0, 0.02^2))"))


def _plot_attention(weights: torch.Tensor, tokens: list[str], path: Path) -> None:
    """Heat maps of the first four heads over the first ``len(tokens)`` positions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(tokens)
    fig, axes = plt.subplots(1, 4, figsize=(18, 5))
    for head, ax in enumerate(axes):
        ax.imshow(weights[0, head, :n, :n].numpy(), cmap="viridis", vmin=0)
        ax.set_title(f"head {head}")
        ax.set_xticks(range(n), [repr(t)[1:-1] for t in tokens], rotation=90, fontsize=6)
        ax.set_yticks(range(n), [repr(t)[1:-1] for t in tokens], fontsize=6)
    fig.suptitle("causal attention weights (untrained): query rows, key columns")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_pipeline(play: str, console: Console, plot: Path | None = None, course: CourseRun | None = None) -> int:
    """Run every stage this kit has and print what each step gave; return a process exit code.

    Stages 1-3 print one table; then ``course`` (``llmkit run``'s defaults when
    ``None``) pretrains, finetunes and evaluates, writing its files to ``course.out``.
    """
    table = Table(title=f"The pipeline on {play!r} ({resolver.current().spec})", show_header=True)
    table.add_column("step")
    table.add_column("result", overflow="fold")
    stopped = "Stopped in Stage 1"  # where a failure leaves the learner, for the one line below
    torch.manual_seed(0)  # the same random weights every run
    try:
        vectors, batch, tokens = _stage1(play, table, console)
        stopped = "Stopped after Stage 1 (the text is ready for a model)"
        weights = _stage2(vectors, table)
        stopped = "Stopped after Stage 2 (attention)"
        if plot is not None:
            _plot_attention(weights, tokens, plot)
            table.add_row("plot", f"attention heat maps written to {plot}")
        _stage3(batch, table, console)
        stopped = "Stopped after Stage 3 (the GPT-2 architecture)"
    except NotImplementedError as exc:
        if table.row_count:
            console.print(table)
        console.print(f"[yellow]{stopped}: {exc}.[/yellow] "
                      "Write it, then run `llmkit check` to test it.")
        return 1
    except Exception as exc:  # a bug in the learner's code: one line saying what and where
        if table.row_count:
            console.print(table)
        console.print(f"[red]{stopped}: {escape(describe_exception(exc))}")
        return 1
    console.print(table)
    if course is None:
        course = CourseRun(Path("runs/course"), *course_settings())
    following = "pretraining on the whole Shakespeare corpus" if course.weights is None else "GPT-2's weights"
    console.print(f"[green]Done: Stage 3 (the GPT-2 architecture).[/green] Stage 4: {following}.")
    return run_course(course, console)
