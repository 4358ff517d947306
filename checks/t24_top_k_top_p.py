"""Public checks for topic 24 - top-k and top-p sampling.

The helpers here (logits with exact ties, a stand-in model whose greedy chain
ends in an end-of-text id after a known number of steps, the generation probe
that also reports the generator's next draws and the global random state)
are reused by the hidden checks.
"""

from __future__ import annotations

import torch

from checks.t18_gpt_model import gpt_config
from checks.t19_next_token import clear_prompt, gpt
from checks.t23_temperature import tied_logits
from llmkit.checks import check
from llmkit.generation_probes import TableModel, chain_table
from llmkit.probing import Rng, error_case

# the chains' winners lead by 40 or more: at temperatures <= 2 every other id has a probability below
# e^-20 per step, so sampling follows the chain like the argmax does (a flip is a ~1e-8 event per run)
CHAIN_LEAD = 40.0

# ----------------------------------------------------------------------------- inputs


def eos_chain(rng: Rng, vocab_size: int, context_length: int, eos_id: int) -> tuple[TableModel, list[int]]:
    """A stand-in model whose next id follows a line through every other id and then ``eos_id``.

    Returns the model and the line: from ``line[i]`` the greedy path reaches ``eos_id`` after
    ``len(line) - i`` new ids. After ``eos_id`` the model would go on (to a random id of the line),
    so a row that is not padded with ``eos_id`` shows.
    """
    line = rng.sample([v for v in range(vocab_size) if v != eos_id], vocab_size - 1)
    successor = [0] * vocab_size
    for here, there in zip(line, line[1:] + [eos_id]):
        successor[here] = there
    successor[eos_id] = rng.choice(line)
    table = chain_table(rng, vocab_size, successor, lead=CHAIN_LEAD)
    return TableModel(table, context_length), line


def chain_prompts(rng: Rng, line: list[int], steps_to_eos: list[int], n: int) -> torch.Tensor:
    """``(len(steps_to_eos), n)`` prompts: row ``r`` ends on the id that reaches eos in ``steps_to_eos[r]`` steps."""
    vocab = len(line) + 1
    rows = []
    for steps in steps_to_eos:
        row = rng.randint(0, vocab, (n,))
        row[-1] = line[len(line) - steps]
        rows.append(row)
    return torch.stack(rows)


# ----------------------------------------------------------------------------- probes


def generation_probe(t, rng: Rng, model, ids: torch.Tensor, steps: int, context_length: int,
                     generator: torch.Generator | None = None, **options) -> dict:
    """``generate`` with ``options``: the ids, the generator's next draws, the global random state,
    the prompt and the model's mode afterwards."""
    prompt, mode = ids.clone(), model.training
    state = torch.random.get_rng_state()
    out = t.generate(model, ids, steps, context_length, generator=generator, **options)
    report = {"ids": out, "global random state untouched": torch.equal(torch.random.get_rng_state(), state),
              "prompt unchanged": torch.equal(ids, prompt), "mode kept": model.training == mode}
    if generator is not None:
        report["generator's next draws"] = torch.randint(0, 2**31, (3,), generator=generator)
    return report


def filter_cases(fn, logits: torch.Tensor, *settings) -> dict:
    """The filter at several settings, and whether it left its input alone."""
    before = logits.clone()
    out = {f"{setting}": fn(logits, setting) for setting in settings}
    out["input unchanged"] = torch.equal(logits, before)
    return out


# ----------------------------------------------------------------------------- checks


@check("top_k_filter: k = 1, 3 and the vocabulary size on random logits; ties at the k-th logit are kept")
def top_k_cases(t, rng):
    return {"random": filter_cases(t.top_k_filter, rng.randn(3, 10), 1, 3, 10),
            "ties": filter_cases(t.top_k_filter, tied_logits(rng, 3, 8), 1, 2, 4)}


@check("top_p_filter: p = 0.5 and 0.8 on random logits; p = 1 keeps everything; a tiny p keeps only the top token")
def top_p_cases(t, rng):
    logits = rng.randn(3, 12, scale=2.0)
    return filter_cases(t.top_p_filter, logits, 0.5, 0.8, 1.0, 1e-4)


@check("generate at temperature 0 on a small GPT-2 is greedy decoding (top_k and top_p change nothing)")
def greedy_generate(t, rng):
    config = gpt_config(40, 5, 16, 2, 2, dropout=0.2)
    model = gpt(rng, config)
    ids = clear_prompt(rng, model, 2, 7, 6, 5, 40)
    return [t.generate(model, ids, 6, 5), t.generate(model, ids, 6, 5, top_k=3, top_p=0.5)]


@check("generate with temperature 0.9, top_k 8 and top_p 0.9 on a small GPT-2, a seeded generator, a batch of 2")
def sampled_generate(t, rng):
    config = gpt_config(40, 5, 16, 2, 2)
    model = gpt(rng, config)
    ids = rng.randint(0, 40, (2, 7))
    # seeds 1002 and 1003 (public seeds 0 and 1) keep every decision of the run clear of a tie
    return generation_probe(t, rng, model, ids, 6, 5, torch.Generator().manual_seed(1002 + rng.seed),
                            temperature=0.9, top_k=8, top_p=0.9)


@check("eos_id: rows that produced it are padded with it, and generation stops once every row has it")
def stops_at_eos(t, rng):
    model, line = eos_chain(rng, 10, 4, eos_id=7)
    ids = chain_prompts(rng, line, [2, 5], 3)
    return {"greedy": t.generate(model, ids, 9, 4, eos_id=7),
            "sampled": generation_probe(t, rng, model, ids, 9, 4, torch.Generator().manual_seed(5), temperature=1.0,
                                        top_k=3, eos_id=7),
            "without eos_id": t.generate(model, ids, 9, 4)}


@check("errors: max_new_tokens < 0, temperature < 0, top_k 0, top_p 0 and 1.5")
def errors(t, rng):
    model, _ = eos_chain(rng, 6, 4, eos_id=0)
    ids = rng.randint(0, 6, (1, 3))
    logits = rng.randn(2, 6)
    return [error_case("generate(max_new_tokens=-1)", t.generate, model, ids, -1, 4, names=[-1]),
            error_case("generate(temperature=-0.5)", t.generate, model, ids, 2, 4, temperature=-0.5, names=[-0.5]),
            error_case("top_k_filter(k=0)", t.top_k_filter, logits, 0, names=[0]),
            error_case("top_p_filter(p=0)", t.top_p_filter, logits, 0, names=[0]),
            error_case("top_p_filter(p=1.5)", t.top_p_filter, logits, 1.5, names=[1.5]),
            error_case("generate(top_k=2, top_p=0.5)", t.generate, model, ids, 2, 4, temperature=1.0, top_k=2,
                       top_p=0.5, generator=torch.Generator().manual_seed(0))]
