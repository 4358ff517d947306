"""``llmkit run``: the course's main job, on whatever implementation is chosen.

It runs the pipeline built so far - today Stage 1: raw Shakespeare text ->
GPT-2 BPE token ids -> input/target windows -> embeddings ready for a model -
and prints what each step produced. Later stages extend it (pretraining,
generation, finetuning). A hole that is not written yet stops the run with
one sentence naming the function to write.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table

from llmkit import data, registry, resolver

CONTEXT = 256  # tokens per training window for the demo
D_MODEL = 768  # GPT-2 small's width


def _stage1(play: str, console: Console) -> Table:
    bpe = resolver.load(registry.get(2))
    loader_topic = resolver.load(registry.get(3))
    pipeline = resolver.load(registry.get(6))

    text = data.shakespeare(play)
    table = Table(title=f"Stage 1 on {play!r} ({resolver.current().spec})", show_header=True)
    table.add_column("step")
    table.add_column("result", overflow="fold")
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
    table.add_row("first window", repr(tokenizer.decode(inputs[0, :24].tolist())) + " ...")

    embedding = pipeline.InputEmbedding(vocab_size=50257, context_length=1024, d_model=D_MODEL, dropout=0.1)
    embedding.eval()
    vectors = embedding(inputs)
    n_params = sum(p.numel() for p in embedding.parameters())
    table.add_row("embeddings (t04-t06)",
                  f"{tuple(vectors.shape)} (batch, seq, d_model); {n_params:,} parameters; "
                  f"mean {vectors.mean().item():+.3f}, std {vectors.std().item():.3f}")
    return table


def run_pipeline(play: str, console: Console) -> int:
    """Run every stage this kit has; return a process exit code."""
    try:
        console.print(_stage1(play, console))
    except NotImplementedError as exc:
        console.print(f"[yellow]Stopped: {exc}.[/yellow] Write it, then run `llmkit check` to test it.")
        return 1
    except (ModuleNotFoundError, FileNotFoundError, ValueError) as exc:
        console.print(f"[red]Stopped: {exc}")
        return 1
    console.print("[green]Stage 1 done: the text is ready for a model (Stage 2 builds attention).")
    return 0
