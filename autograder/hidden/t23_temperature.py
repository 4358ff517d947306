"""Hidden checks for topic 23 - temperature (fresh seed every run)."""

import torch

from checks.t18_gpt_model import random_config
from checks.t19_next_token import gpt
from checks.t23_temperature import (
    clear_generator,
    clear_winner,
    global_sampling_probe,
    reference_probs,
    sampling_probe,
    tied_logits,
)
from llmkit.checks import check
from llmkit.generation_probes import MIN_GAP, race_gap
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `temperature.py` (it imports": "where the code goes and what it builds on",
}


def temperatures(rng) -> list[float]:
    """A cold, a mild and a hot temperature, and exactly 1."""
    return [rng.choice([0.05, 0.2, 0.5]), rng.choice([0.8, 1.3]), rng.choice([2.0, 4.0, 10.0]), 1.0]


@check("softmax_with_temperature on random shapes (1-3 dimensions) and temperatures, T = 1 against the plain "
       "softmax, huge logits",
       promises=["returns `softmax(logits / temperature)` over the last dimension: probabilities of the same shape "
                 "as `logits` (any number of leading dimensions), each row summing to 1.",
                 "With `temperature = 1` it is the plain softmax.",
                 "It stays finite for huge logits (`1e4` and beyond)."])
def tempered_random(t, rng):
    vocab = rng.integer(2, 40)
    shape = rng.choice([(vocab,), (rng.integer(1, 4), vocab), (rng.integer(1, 3), rng.integer(1, 4), vocab)])
    logits = rng.randn(*shape, scale=rng.choice([1.0, 3.0]))
    out = {f"T={T}": t.softmax_with_temperature(logits, T) for T in temperatures(rng)}
    out["plain softmax"] = torch.softmax(logits, dim=-1)  # what T = 1 must equal
    huge = rng.randn(rng.integer(1, 3), vocab, scale=rng.choice([1e4, 1e6]))
    out["huge logits"] = t.softmax_with_temperature(huge, rng.choice([0.3, 1.0, 3.0]))
    return out


@check("the limits: T -> 0 (0.001, 0.0001) samples the argmax and gives a one-hot distribution; T = 0 is the "
       "argmax with ties resolved to the first index, generator untouched; T = 1000 is nearly uniform",
       promises=["`temperature == 0` returns the argmax of each row (the first index on ties) and draws nothing "
                 "from the generator.",
                 "returns `softmax(logits / temperature)` over the last dimension"])
def limits_random(t, rng):
    batch, vocab = rng.integer(1, 6), rng.integer(3, 30)
    clear = clear_winner(rng, batch, vocab)
    return {"cold samples": [sampling_probe(t, rng, clear, T)["ids"] for T in (1e-3, 1e-4)],
            "cold probs": t.softmax_with_temperature(clear, 1e-3),
            "T=0, ties": sampling_probe(t, rng, tied_logits(rng, batch, vocab), 0.0),
            "T=0": sampling_probe(t, rng, clear, 0.0),
            "very hot": t.softmax_with_temperature(rng.randn(batch, vocab, scale=2.0), 1000.0)}


@check("sample_next_token with seeded generators: random batch, vocabulary and temperature (T = 1 included); "
       "one multinomial draw for the whole batch, global random state untouched; 64 rows at T = 3 (a temperature "
       "applied twice or not at all shows)",
       promises=["`logits` `(batch, vocab_size)` -> `(batch, 1)` `torch.long` ids.",
                 "`temperature > 0` makes exactly one call `torch.multinomial(probs, 1, generator=generator)` for the "
                 "whole batch, with `probs = softmax_with_temperature(logits, temperature)`:",
                 "the call advances the generator exactly as that one draw does.",
                 "With a `generator`, torch's global random state is untouched;"])
def draws_random(t, rng):
    out = []
    for i, T in enumerate((rng.choice([0.3, 0.7]), 1.0, rng.choice([1.5, 3.0]))):
        # the first draw has several rows and a real choice in each: the order of the draws shows
        batch, vocab = (rng.integer(3, 8), rng.integer(8, 50)) if i == 0 else (rng.integer(1, 8), rng.integer(2, 50))
        out.append(sampling_probe(t, rng, rng.randn(batch, vocab, scale=2.0), T))
    # 64 rows, two live tokens 3 apart: at T = 3 drawn at odds e^1 = 2.7 to 1. Tempered twice (T = 9) or
    # not at all (T = 1), about one row in seven would come out differently
    two = torch.full((64, 8), -10.0)
    for row in range(64):
        first, second = rng.sample(range(8), 2)
        two[row, first], two[row, second] = 3.0, 0.0
    out.append(sampling_probe(t, rng, two, 3.0))
    return out


@check("a seed reproduces a draw: two generators seeded alike give the same ids; one generator used twice "
       "gives the reference's two draws",
       promises=["two generators seeded alike give the same ids,"])
def reproducible_random(t, rng):
    batch, vocab, T = rng.integer(2, 6), rng.integer(5, 40), rng.choice([0.5, 1.0, 2.0])
    logits = rng.randn(batch, vocab, scale=2.0)
    probs = reference_probs(logits, T)
    generator = clear_generator(rng, probs)
    twin = torch.Generator().set_state(generator.get_state())
    first = t.sample_next_token(logits, T, generator=generator)
    again = t.sample_next_token(logits, T, generator=twin)
    # the same generator once more: the second draw must be clear too, else its ids are not compared
    second = t.sample_next_token(logits, T, generator=generator) if race_gap(probs, generator) > MIN_GAP else None
    return {"first": first, "same seed again": again, "same ids": torch.equal(first, again), "second draw": second}


@check("generator=None samples from torch's global generator (seeded by the check)",
       promises=["`generator=None` draws from torch's global generator instead."])
def global_random(t, rng):
    batch, vocab, T = rng.integer(1, 6), rng.integer(3, 40), rng.choice([0.5, 1.0, 2.0])
    return global_sampling_probe(t, rng, rng.randn(batch, vocab, scale=2.0), T)


@check("next_token_probs on small GPT-2s: random temperature, prompts shorter and longer than the window",
       promises=["returns `(batch, vocab_size)` probabilities: `softmax_with_temperature` of topic 19's "
                 "`next_token_logits(model, ids, context_length)`"])
def model_random(t, rng):
    config = random_config(rng, tie_weights=rng.coin(), qkv_bias=rng.coin(), max_layers=2, min_context=3,
                           max_context=8)
    model = gpt(rng, config)
    vocab, context = config.vocab_size, config.context_length
    out = []
    for n in (rng.integer(1, context), context + rng.integer(1, 4)):
        ids = rng.randint(0, vocab, (rng.integer(1, 3), n))
        out.append(t.next_token_probs(model, ids, context, rng.choice([0.3, 0.8, 2.0])))
    return out


@check("errors: temperature <= 0 for the softmax, < 0 for sampling, logits that are not 2-D - each naming the "
       "value; valid calls raise nothing",
       promises=["`temperature <= 0` raises `ValueError` naming it",
                 "`temperature < 0` raises `ValueError` naming it, and logits that are not 2-D raise `ValueError` "
                 "naming their shape"])
def errors_random(t, rng):
    vocab = rng.integer(3, 12)
    logits = rng.randn(rng.integer(1, 4), vocab)
    negative = -rng.choice([0.25, 0.5, 1.5, 2.5])  # printed alike by f"{x}" and f"{x:g}"
    deep = rng.randn(1, 2, vocab)
    return [error_case("softmax_with_temperature(T=0)", t.softmax_with_temperature, logits, 0, names=[0]),
            error_case(f"softmax_with_temperature(T={negative})", t.softmax_with_temperature, logits, negative,
                       names=[negative]),
            error_case(f"sample_next_token(T={negative})", t.sample_next_token, logits, negative, names=[negative]),
            error_case(f"sample_next_token on logits of shape ({vocab},)", t.sample_next_token, logits[0], 1.0,
                       generator=torch.Generator().manual_seed(0), names=[vocab]),
            error_case(f"sample_next_token on logits of shape (1, 2, {vocab})", t.sample_next_token, deep, 0.0,
                       names=[vocab]),
            error_case("sample_next_token(T=0.5)", t.sample_next_token, logits, 0.5,
                       generator=torch.Generator().manual_seed(1)),
            error_case("softmax_with_temperature(T=0.5)", t.softmax_with_temperature, logits, 0.5)]
