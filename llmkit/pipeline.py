"""``llmkit run``: the course's main job, on whatever implementation is chosen.

It runs the pipeline built so far - Stage 1: raw Shakespeare text -> GPT-2
BPE token ids -> input/target windows -> embeddings ready for a model; Stage 2:
causal multi-head attention over those embeddings - and prints what each step
produced. Later stages extend it (pretraining, generation, finetuning). A hole
that is not written yet stops the run with one sentence naming the function to
write; the steps already done are still shown.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from llmkit import data, registry, resolver
from llmkit.checks import describe_exception

CONTEXT = 256  # tokens per training window for the demo
D_MODEL = 768  # GPT-2 small's width
HEADS = 12  # GPT-2 small's number of attention heads


def _stage1(play: str, table: Table, console: Console) -> tuple[torch.Tensor, list[str]]:
    """Text -> ids -> windows -> embeddings; returns ``(embeddings (8, CONTEXT, D_MODEL), first tokens)``."""
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
    return vectors, first_tokens


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


def run_pipeline(play: str, console: Console, plot: Path | None = None) -> int:
    """Run every stage this kit has and print what each step gave; return a process exit code."""
    table = Table(title=f"The pipeline on {play!r} ({resolver.current().spec})", show_header=True)
    table.add_column("step")
    table.add_column("result", overflow="fold")
    done = "nothing"
    torch.manual_seed(0)  # the same random weights every run
    try:
        vectors, tokens = _stage1(play, table, console)
        done = "Stage 1 (the text is ready for a model)"
        weights = _stage2(vectors, table)
        done = "Stage 2 (attention)"
        if plot is not None:
            _plot_attention(weights, tokens, plot)
            table.add_row("plot", f"attention heat maps written to {plot}")
    except NotImplementedError as exc:
        if table.row_count:
            console.print(table)
        console.print(f"[yellow]Stopped after {done}: {exc}.[/yellow] "
                      "Write it, then run `llmkit check` to test it.")
        return 1
    except Exception as exc:  # a bug in the learner's code: one line saying what and where
        if table.row_count:
            console.print(table)
        console.print(f"[red]Stopped after {done}: {escape(describe_exception(exc))}")
        return 1
    console.print(table)
    console.print(f"[green]Done: {done}. Stage 3 (the GPT-2 architecture) comes next.")
    return 0
