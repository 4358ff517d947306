"""Tokens per second of a training step: the course's reference code, and a plain PyTorch GPT-2 on a GPU.

    python benchmarks/train_throughput.py [--threads 2] [--cpu-only] [--steps 10] [--batch 8]

CPU: the reference topics (GPTModel 18, AdamW and train_step 22) at ``llmkit
train``'s default size - 4 blocks, width 128, context 64, batch 4, the
corpus vocabulary of 19,068 tokens. GPU (when CUDA is present): GPT-2 small
(124M parameters, context 1024) in bfloat16 autocast, first the reference
``GPTModel`` with the reference ``AdamW`` through ``train_step``, then in the
same process a plain PyTorch GPT-2 (``benchmarks/plain_gpt2.py``: fused qkv,
``F.scaled_dot_product_attention``) compiled with ``torch.compile`` and trained
with ``torch.optim.AdamW(fused=True)``; the ratio of the two is printed.
Timings skip warm-up steps (compilation included) and synchronise the device.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain_gpt2 import PlainGPT2  # noqa: E402

from llmkit import registry, resolver  # noqa: E402

CPU_SIZE = dict(vocab=19068, context=64, d=128, heads=4, layers=4, batch=4)
GPT2_SMALL = dict(vocab=50257, context=1024, d=768, heads=12, layers=12)


def timed(step, steps: int, warmup: int, device: torch.device) -> float:
    """Seconds per call of ``step()``, after ``warmup`` calls."""
    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def reference_step(size: dict, batch: int, device: torch.device, torch_adamw: bool = False):
    """A closure doing one reference ``train_step`` on random tokens (``torch_adamw``: with PyTorch's
    fused AdamW instead of topic 22's, to show what share of the gap is the optimizer)."""
    config_t, model_t, train_t = (resolver.load(registry.get(n)) for n in (13, 18, 22))
    config = config_t.GPTConfig(vocab_size=size["vocab"], context_length=size["context"], d_model=size["d"],
                                num_heads=size["heads"], num_layers=size["layers"], dropout=0.0)
    model = model_t.GPTModel(config).to(device)
    if torch_adamw:
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1, fused=True)
    else:
        optimizer = train_t.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    x = torch.randint(0, size["vocab"], (batch, size["context"]), device=device)
    y = torch.randint(0, size["vocab"], (batch, size["context"]), device=device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")

    def step():
        with autocast:
            train_t.train_step(model, x, y, optimizer, device, lr=3e-4, max_grad_norm=1.0)
    return step


def plain_step(size: dict, batch: int, device: torch.device):
    model = PlainGPT2(size["vocab"], size["context"], size["d"], size["heads"], size["layers"]).to(device)
    compiled = torch.compile(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1, fused=True)
    x = torch.randint(0, size["vocab"], (batch, size["context"]), device=device)
    y = torch.randint(0, size["vocab"], (batch, size["context"]), device=device)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(compiled(x).flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8, help="GPU batch (sequences of 1024 tokens)")
    parser.add_argument("--cpu-only", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    resolver.install("solutions")
    torch.manual_seed(0)
    cpu = torch.device("cpu")
    size = CPU_SIZE
    seconds = timed(reference_step(size, size["batch"], cpu), args.steps, 2, cpu)
    print(f"CPU ({torch.get_num_threads()} threads), reference train_step, {size['layers']} blocks x "
          f"{size['d']}, context {size['context']}, batch {size['batch']}: "
          f"{size['batch'] * size['context'] / seconds:,.0f} tokens/s ({seconds * 1000:.0f} ms/step)")
    if args.cpu_only or not torch.cuda.is_available():
        print("GPU: none (CUDA not available)" if not args.cpu_only else "GPU: skipped (--cpu-only)")
        return
    gpu = torch.device("cuda")
    tokens = args.batch * GPT2_SMALL["context"]
    name = torch.cuda.get_device_name()
    ref = timed(reference_step(GPT2_SMALL, args.batch, gpu), args.steps, 3, gpu)
    torch.cuda.empty_cache()
    ref_fused = timed(reference_step(GPT2_SMALL, args.batch, gpu, torch_adamw=True), args.steps, 3, gpu)
    torch.cuda.empty_cache()
    plain = timed(plain_step(GPT2_SMALL, args.batch, gpu), args.steps, 5, gpu)
    print(f"GPU {name}, GPT-2 small (124M), context 1024, batch {args.batch}, bfloat16 autocast:")
    print(f"  reference GPTModel + AdamW (topics 18, 22): {tokens / ref:,.0f} tokens/s ({ref * 1000:.0f} ms/step)")
    print(f"  same, PyTorch's fused AdamW instead:        {tokens / ref_fused:,.0f} tokens/s "
          f"({ref_fused * 1000:.0f} ms/step)")
    print(f"  plain PyTorch, SDPA + torch.compile:        {tokens / plain:,.0f} tokens/s ({plain * 1000:.0f} ms/step)")
    print(f"  ratio reference / plain: {plain / ref:.2f}")


if __name__ == "__main__":
    main()
