"""Hidden checks for topic 19 - next-token prediction (fresh seed every run)."""

import torch

from checks.t18_gpt_model import random_config
from checks.t19_next_token import (
    clear_prompt,
    decode_cases,
    gpt,
    side_effects,
    table_generation,
    table_model,
    text_case,
)
from llmkit import data
from llmkit.checks import check
from llmkit.generation_probes import PlainTokenizer, ScriptTokenizer
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `generate.py` (the model is any": "where the code goes and what a model is",
    "Wrap the model call in `torch.no_grad()`": "advice: with or without it the ids are the same",
    "The ids come out the same either way.": "part of the advice above",
}

ALPHABET = "abcdefghij XYZ.,!\n"
SPECIAL = ScriptTokenizer.SPECIAL


def small_config(rng, dropout: float = 0.0, min_context: int = 3):
    """A tiny GPT-2 config: vocab 20-60, d_model 8-16, 1-2 layers, context 3-8."""
    return random_config(rng, tie_weights=rng.coin(), qkv_bias=rng.coin(), dropout=dropout, max_layers=2,
                         min_context=min_context, max_context=8)


def random_text(rng, specials: int) -> str:
    """Random characters with ``specials`` end-of-text markers at random places (one at the very end)."""
    pieces = ["".join(rng.choice(ALPHABET) for _ in range(rng.integer(0, 6))) for _ in range(specials)]
    return SPECIAL.join(pieces) + SPECIAL + "".join(rng.choice(ALPHABET) for _ in range(rng.integer(1, 5)))


@check("text_to_ids: (1, n) long ids; allowed_special='all' for a tokenizer that takes it (random texts with "
       "<|endoftext|>, a stand-in and GPT-2's), plain encode(text) otherwise; an empty text",
       promises=["returns the ids of `text` as a `(1, n)` `torch.long` tensor, a batch of one.",
                 "It calls `tokenizer.encode(text, allowed_special=\"all\")` when the tokenizer's `encode` has a "
                 "parameter named `allowed_special`",
                 "so that `<|endoftext|>` becomes its one id;", "otherwise it calls `tokenizer.encode(text)`.",
                 "An empty text gives shape `(1, 0)`, still `torch.long`"])
def encode_random(t, rng):
    text = random_text(rng, rng.integer(1, 3))
    special_id = rng.integer(60, 120)
    words = " ".join(rng.choice(["the", "a", "model", "token", "Every", "moves"]) for _ in range(rng.integer(1, 6)))
    return {"stand-in with allowed_special": text_case(t, ScriptTokenizer(special_id), text),
            "stand-in with encode(text) only": text_case(t, PlainTokenizer(special_id), text),
            "GPT-2": t.text_to_ids(words + SPECIAL + words, data.tiktoken_gpt2()),
            "empty, stand-in": text_case(t, ScriptTokenizer(special_id), ""),
            "empty, encode(text) only": text_case(t, PlainTokenizer(special_id), ""),
            "empty, GPT-2": t.text_to_ids("", data.tiktoken_gpt2())}


@check("ids_to_text: (1, n), (n,) and list inputs give decode a list of Python ints; a batch of rows raises "
       "ValueError naming its size",
       promises=["`ids` is a `(1, n)` tensor, an `(n,)` tensor or a list of ints;",
                 "returns `tokenizer.decode` of those ids, passed as a list of Python ints",
                 "A tensor of shape `(batch, n)` with `batch > 1` raises `ValueError` naming the batch size"])
def decode_random(t, rng):
    special_id = rng.integer(60, 120)
    tokenizer = ScriptTokenizer(special_id)  # its decode refuses anything but a list of Python ints
    ids = rng.randint(0, special_id + 1, (1, rng.integer(1, 12)))
    ids[0, rng.integer(0, ids.shape[1] - 1)] = special_id
    rows = rng.integer(2, 4)
    batch = rng.randint(0, special_id, (rows, rng.integer(1, 5)))
    return {"stand-in": decode_cases(t, tokenizer, ids),
            "GPT-2": decode_cases(t, data.tiktoken_gpt2(), rng.randint(0, 50257, (1, rng.integer(1, 10)))),
            "empty list": t.ids_to_text([], tokenizer),
            f"a batch of {rows}": error_case(f"ids_to_text on a ({rows}, n) tensor", t.ids_to_text, batch,
                                             tokenizer, names=[rows])}


@check("next_token_logits on small GPT-2s: prompts shorter than, equal to and longer than context_length, "
       "batch 1-3; context_length 1",
       promises=["`ids` `(batch, n)` -> `(batch, vocab_size)`: calls `model` once, on the last `context_length` ids "
                 "(`ids[:, -context_length:]`, all of them when `n <= context_length`), and returns the logits at "
                 "the last position of that window."])
def logits_random(t, rng):
    config = small_config(rng, dropout=rng.choice([0.0, 0.3]))
    model = gpt(rng, config)
    vocab, context = config.vocab_size, config.context_length
    out = []
    for n in (rng.integer(1, context - 1), context, context + rng.integer(1, 6)):
        out.append(t.next_token_logits(model, rng.randint(0, vocab, (rng.integer(1, 3), n)), context))
    out.append(t.next_token_logits(model, rng.randint(0, vocab, (2, rng.integer(2, 5))), 1))
    return out


@check("next_token_logits calls the model once, on the last context_length ids (a stand-in model that "
       "records its input), for prompts shorter than, equal to and longer than the window",
       promises=["calls `model` once, on the last `context_length` ids",
                 "returns the logits at the last position of that window."])
def logits_window_random(t, rng):
    vocab, context = rng.integer(6, 20), rng.integer(2, 6)
    out = []
    for n in (rng.integer(1, context - 1), context, context + rng.integer(1, 5)):
        model = table_model(rng, vocab, context)
        logits = t.next_token_logits(model, rng.randint(0, vocab, (rng.integer(1, 3), n)), context)
        out.append({"logits": logits, "model calls": model.calls})
    return out


@check("generate_greedy on a stand-in model with argmax ties (first index wins): random vocab, window and "
       "prompt length (shorter and longer than the window), context_length 1, max_new_tokens 0",
       promises=["Each of the `max_new_tokens` steps calls `next_token_logits` (one model call, on the last "
                 "`context_length` ids), takes the `argmax` of each row (the first index on ties, as `torch.argmax` "
                 "does) and appends it.",
                 "`max_new_tokens = 0` returns the prompt without calling the model.",
                 "returns `(batch, n + max_new_tokens)` `torch.long` ids: the prompt, then the new ids."])
def chain_random(t, rng):
    vocab, context = rng.integer(6, 20), rng.integer(2, 6)
    batch = rng.integer(1, 3)
    return {"longer than the window": table_generation(t, rng, table_model(rng, vocab, context, ties=True), batch,
                                                       context + rng.integer(1, 4), rng.integer(3, 8)),
            "shorter than the window": table_generation(t, rng, table_model(rng, vocab, context, ties=True), batch,
                                                        rng.integer(1, context - 1), rng.integer(3, 8)),
            "context_length 1": table_generation(t, rng, table_model(rng, vocab, 1, ties=True), batch,
                                                 rng.integer(1, 4), rng.integer(2, 5)),
            "max_new_tokens 0": table_generation(t, rng, table_model(rng, vocab, context), batch,
                                                 rng.integer(1, 2 * context), 0),
            "every row tied": table_generation(t, rng, table_model(rng, vocab, context, ties=True,
                                                                   every_row_tied=True), batch, context, 3)}


@check("generate_greedy on small GPT-2s (random configs, dropout > 0 in eval mode): prompts shorter than, "
       "equal to and longer than the window, batch 1-3, and each row of a batch generated alone",
       promises=["returns `(batch, n + max_new_tokens)` `torch.long` ids: the prompt, then the new ids.",
                 "The rows of a batch are generated side by side, each as it would be alone."])
def greedy_random(t, rng):
    config = small_config(rng, dropout=rng.choice([0.1, 0.5]))
    model = gpt(rng, config)
    vocab, context = config.vocab_size, config.context_length
    out = {}
    for label, n in (("shorter", rng.integer(1, context - 1)), ("equal", context),
                     ("longer", context + rng.integer(1, 4))):
        steps = rng.integer(context, context + 4)  # every run crosses the window's end
        ids = clear_prompt(rng, model, rng.integer(1, 3), n, steps, context, vocab)
        out[label] = t.generate_greedy(model, ids, steps, context)
        if label == "longer":
            out["rows alone"] = [t.generate_greedy(model, ids[i:i + 1], steps, context) for i in range(ids.shape[0])]
    return out


@check("generate_greedy leaves the prompt, the model's train or eval mode and torch's global random state as "
       "they were, and gives the same ids twice",
       promises=["The prompt tensor is left unchanged and the model's train/eval mode is left as it was.",
                 "No randomness is used: the same call gives the same ids, and torch's global random state is "
                 "untouched."])
def side_effects_random(t, rng):
    out = []
    for train in (True, False):  # train mode with dropout 0 (deterministic), eval mode with dropout > 0
        config = small_config(rng, dropout=0.0 if train else rng.choice([0.2, 0.5]))
        model = gpt(rng, config).train(train)
        steps, context = rng.integer(2, 6), config.context_length
        ids = clear_prompt(rng, model, rng.integer(1, 2), rng.integer(1, context + 2), steps, context,
                           config.vocab_size)
        out.append(side_effects(t, rng, model, ids, steps, context))
    return out


@check("errors: max_new_tokens < 0, context_length < 1, 1-D ids, an empty prompt - each naming the value; "
       "valid calls raise nothing",
       promises=["`max_new_tokens < 0` raises `ValueError` naming it",
                 "`context_length < 1` raises `ValueError` naming it;",
                 "so does `ids` that is not 2-D or holds no ids (`n == 0`), naming its shape"])
def errors_random(t, rng):
    vocab, context = rng.integer(6, 20), rng.integer(2, 6)
    model = table_model(rng, vocab, context)
    ids = rng.randint(0, vocab, (rng.integer(1, 3), rng.integer(1, 8)))
    steps, bad_context = -rng.integer(1, 5), -rng.integer(0, 3)
    flat = rng.randint(0, vocab, (rng.integer(2, 9),))
    rows = rng.integer(2, 4)
    empty = torch.zeros(rows, 0, dtype=torch.long)
    return [error_case(f"generate_greedy(max_new_tokens={steps})", t.generate_greedy, model, ids, steps, context,
                       names=[steps]),
            error_case(f"next_token_logits(context_length={bad_context})", t.next_token_logits, model, ids,
                       bad_context, names=[bad_context]),
            error_case(f"next_token_logits on 1-D ids of shape ({flat.shape[0]},)", t.next_token_logits, model,
                       flat, context, names=[flat.shape[0]]),
            error_case(f"next_token_logits on ids of shape ({rows}, 0)", t.next_token_logits, model, empty, context,
                       names=[rows, 0]),
            error_case("generate_greedy on a valid prompt", t.generate_greedy, model, ids, rng.integer(1, 4), context),
            error_case("next_token_logits on a valid prompt", t.next_token_logits, model, ids, context)]
