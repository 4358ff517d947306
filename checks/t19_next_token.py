"""Public checks for topic 19 - next-token prediction.

The helpers here (a small GPT-2 with given weights and a prompt whose greedy
path has clear decisions, a stand-in model that records what it is fed, the
mode / prompt / random-state probe) are reused by the hidden checks.
"""

from __future__ import annotations

import importlib

import torch

from checks.t18_gpt_model import gpt_config, model_with
from llmkit import data
from llmkit.checks import check
from llmkit.generation_probes import (
    MIN_GAP,
    TRIES,
    PlainTokenizer,
    ScriptTokenizer,
    TableModel,
    chain_table,
    greedy_path_gap,
)
from llmkit.probing import Rng, error_case

# ----------------------------------------------------------------------------- models and prompts


def gpt(rng: Rng, config):
    """Topic 18's ``GPTModel(config)`` (resolved like the learner's own import) with given weights, eval mode."""
    t18 = importlib.import_module("course.t18_gpt_model")
    return model_with(t18, rng, config).eval()


def clear_prompt(rng: Rng, model, batch: int, n: int, steps: int, context_length: int, vocab_size: int):
    """A ``(batch, n)`` prompt whose greedy continuation of ``steps`` ids has no near-tie on the way
    (see :mod:`llmkit.generation_probes`): any correct argmax takes the reference's path."""
    for _ in range(TRIES):
        ids = rng.randint(0, vocab_size, (batch, n))
        if greedy_path_gap(model, ids, steps, context_length) > MIN_GAP:
            return ids
    raise RuntimeError("no prompt with clear greedy decisions found: the probe's model is degenerate")


def table_model(rng: Rng, vocab_size: int, context_length: int, ties: bool = False,
                every_row_tied: bool = False) -> TableModel:
    """A stand-in model whose next id after ``v`` is a random successor of ``v`` (by a clear lead).

    With ``ties`` a few rows also hold their largest value at a *lower* index than the successor
    and at a higher one: the argmax must return the first of the tied indices. With ``every_row_tied``
    every row does, so that every generated id meets a tie (a chain may miss a few tied rows).
    """
    successor = [rng.integer(0, vocab_size - 1) for _ in range(vocab_size)]
    tied = {}
    if ties:
        for v in rng.sample(range(vocab_size), vocab_size if every_row_tied else max(2, vocab_size // 3)):
            others = [u for u in range(vocab_size) if u != successor[v]]
            tied[v] = rng.sample(others, 2)
            successor[v] = min(successor[v], *tied[v])  # what a first-index argmax picks
    return TableModel(chain_table(rng, vocab_size, successor, ties=tied), context_length)


def table_generation(t, rng: Rng, model: TableModel, batch: int, n: int, steps: int) -> dict:
    """Greedy ids from the stand-in model, and every window it was fed."""
    ids = rng.randint(0, model.table.shape[0], (batch, n))
    out = t.generate_greedy(model, ids, steps, model.context_length)
    return {"ids": out, "model calls": model.calls}


def side_effects(t, rng: Rng, model, ids: torch.Tensor, steps: int, context_length: int) -> dict:
    """What a greedy run leaves behind: the prompt, the model's mode, torch's global random state,
    and whether a second call gives the same ids."""
    prompt = ids.clone()
    was_training = model.training
    state = torch.random.get_rng_state()
    first = t.generate_greedy(model, ids, steps, context_length)
    second = t.generate_greedy(model, ids, steps, context_length)
    return {"ids": first, "same ids twice": torch.equal(first, second), "prompt unchanged": torch.equal(ids, prompt),
            "mode kept": model.training == was_training,
            "global random state untouched": torch.equal(torch.random.get_rng_state(), state)}


def text_case(t, tokenizer, text: str) -> dict:
    """``text_to_ids`` on ``text``: the ids and what ``encode`` was asked for."""
    ids = t.text_to_ids(text, tokenizer)
    return {"ids": ids, "encode called with": list(getattr(tokenizer, "seen", []))}


def decode_cases(t, tokenizer, ids: torch.Tensor) -> dict:
    """``ids_to_text`` on one sequence given as ``(1, n)``, ``(n,)`` and a list."""
    return {"(1, n) tensor": t.ids_to_text(ids, tokenizer), "(n,) tensor": t.ids_to_text(ids[0], tokenizer),
            "list of ints": t.ids_to_text(ids[0].tolist(), tokenizer)}


# ----------------------------------------------------------------------------- checks


@check("text_to_ids / ids_to_text with GPT-2's tokenizer: (1, n) long ids, <|endoftext|> as one id, round trip")
def gpt2_round_trip(t, rng):
    tokenizer = data.tiktoken_gpt2()
    text = "Every effort moves you<|endoftext|>In the beginning"
    ids = t.text_to_ids(text, tokenizer)
    return {"ids": ids, "decoded": decode_cases(t, tokenizer, ids), "empty": t.text_to_ids("", tokenizer)}


@check("text_to_ids passes allowed_special='all' only to a tokenizer whose encode takes it")
def encode_arguments(t, rng):
    text = "ab<|endoftext|>c"
    return [text_case(t, ScriptTokenizer(), text), text_case(t, PlainTokenizer(), text)]


@check("next_token_logits: the last position's logits for the last context_length ids (a longer and a shorter prompt)")
def last_logits(t, rng):
    config = gpt_config(30, 6, 16, 2, 1)
    model = gpt(rng, config)
    return [t.next_token_logits(model, rng.randint(0, 30, (2, 9)), 6),
            t.next_token_logits(model, rng.randint(0, 30, (1, 4)), 6)]


@check("generate_greedy on a stand-in model: a first-index argmax of the last logits, one call per new id, "
       "each on the last context_length ids")
def greedy_windows(t, rng):
    return table_generation(t, rng, table_model(rng, 12, 4, ties=True), 2, 6, 5)


@check("generate_greedy on a small GPT-2, prompt longer than the context window, batch of 2")
def greedy_gpt(t, rng):
    config = gpt_config(40, 5, 16, 2, 2, dropout=0.2)
    model = gpt(rng, config)
    return t.generate_greedy(model, clear_prompt(rng, model, 2, 7, 6, 5, 40), 6, 5)


@check("generate_greedy leaves the prompt, the model's mode and torch's random state as they were; same ids twice")
def no_side_effects(t, rng):
    config = gpt_config(25, 6, 8, 2, 1)
    model = gpt(rng, config).train()  # dropout 0: train mode changes nothing, but must stay on
    return side_effects(t, rng, model, clear_prompt(rng, model, 1, 3, 5, 6, 25), 5, 6)


@check("errors: max_new_tokens < 0, context_length 0, a batch of 2 to decode")
def errors(t, rng):
    model = table_model(rng, 8, 4)
    ids = rng.randint(0, 8, (2, 3))
    return [error_case("generate_greedy(max_new_tokens=-2)", t.generate_greedy, model, ids, -2, 4, names=[-2]),
            error_case("next_token_logits(context_length=0)", t.next_token_logits, model, ids, 0, names=[0]),
            error_case("ids_to_text on 2 rows", t.ids_to_text, ids, ScriptTokenizer(), names=[2]),
            error_case("generate_greedy(max_new_tokens=3)", t.generate_greedy, model, ids, 3, 4)]
