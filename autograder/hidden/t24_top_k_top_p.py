"""Hidden checks for topic 24 - top-k and top-p sampling (fresh seed every run)."""

import math

import torch

from checks.t18_gpt_model import random_config
from checks.t19_next_token import clear_prompt, gpt
from checks.t23_temperature import clear_generator, tied_logits
from checks.t24_top_k_top_p import chain_prompts, eos_chain, filter_cases, generation_probe
from llmkit.checks import check
from llmkit.generation_probes import (
    MIN_GAP,
    TRIES,
    TableModel,
    kth_gap,
    nucleus_gap,
    race_gap,
    top_two_gap,
)
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `sampling.py` (it imports": "where the code goes and what it builds on",
    "Wrap the loop in `torch.no_grad()`": "advice: with or without it the ids are the same",
    "The ids come out the same either way.": "part of the advice above",
    "`llmkit generate` calls this": "a pointer to the kit's command",
}

# ----------------------------------------------------------------------------- replaying a run


def keep_largest(z: torch.Tensor, k: int) -> torch.Tensor:
    """Top-k as the README defines it (the probe's own code, to replay a run)."""
    if k >= z.shape[-1]:
        return z
    bar = z.sort(dim=-1, descending=True).values[:, k - 1:k]
    return torch.where(z >= bar, z, torch.full_like(z, -math.inf))


def keep_nucleus(z: torch.Tensor, p: float) -> torch.Tensor:
    """Top-p as the README defines it (the probe's own code, to replay a run)."""
    if p >= 1:
        return z
    probs = torch.softmax(z, dim=-1)
    ordered = probs.sort(dim=-1, descending=True).values
    count = ((ordered.cumsum(dim=-1) - ordered) < p).sum(dim=-1, keepdim=True)  # >= 1
    bar = ordered.gather(-1, count - 1)
    return torch.where(probs >= bar, z, torch.full_like(z, -math.inf))


@torch.no_grad()
def replay_gap(model, ids, steps, context, temperature, top_k, top_p, generator) -> float:
    """Replay the documented steps on a copy of ``generator``; the smallest gap of any decision on the way
    (argmax, k-th logit, nucleus boundary, multinomial race). Above MIN_GAP any correct generate matches."""
    draws = torch.Generator().set_state(generator.get_state())
    path, worst = ids, math.inf
    for _ in range(steps):
        scores = model(path[:, max(0, path.shape[1] - context):])[:, -1, :].float()
        if temperature == 0:
            worst = min(worst, top_two_gap(scores))
            pick = scores.argmax(dim=-1, keepdim=True)
        else:
            z = scores / temperature
            if top_k is not None:
                worst = min(worst, kth_gap(z, top_k))
                z = keep_largest(z, top_k)
            if top_p is not None:
                worst = min(worst, nucleus_gap(z, top_p))
                z = keep_nucleus(z, top_p)
            probs = torch.softmax(z, dim=-1)
            worst = min(worst, race_gap(probs, draws))
            pick = torch.multinomial(probs, 1, generator=draws)
        path = torch.cat((path, pick), dim=1)
    return worst


def clear_run(rng, model, shape, steps, context, **options) -> tuple[torch.Tensor, torch.Generator]:
    """A prompt of ``shape`` and a generator under which every decision of the run is clear (see
    ``replay_gap``). Both are drawn again until then: a near-tie in the first step's logits does not
    depend on the generator."""
    vocab = model.config.vocab_size
    for _ in range(TRIES):
        ids = rng.randint(0, vocab, shape)
        generator = torch.Generator().manual_seed(rng.integer(0, 2**31 - 1))
        if replay_gap(model, ids, steps, context, options.get("temperature", 0.0), options.get("top_k"),
                      options.get("top_p"), generator) > MIN_GAP:
            return ids, generator
    raise RuntimeError("no prompt and generator seed with clear decisions found")


def small_config(rng, dropout: float = 0.0):
    return random_config(rng, tie_weights=rng.coin(), qkv_bias=rng.coin(), dropout=dropout, max_layers=2,
                         min_context=3, max_context=8)


def clear_p(rng, logits: torch.Tensor, choices) -> float:
    """A ``p`` from ``choices`` whose nucleus boundary is clear in every row of ``logits``."""
    for _ in range(TRIES):
        p = rng.choice(choices)
        if nucleus_gap(logits, p) > MIN_GAP:
            return p
    raise RuntimeError("no clear nucleus boundary found")


# ----------------------------------------------------------------------------- filters


@check("top_k_filter on random shapes (1-3 dimensions): k = 1, a random k, vocab_size - 1, vocab_size and more; "
       "exact ties at the k-th logit; rows already holding -inf; the input left alone",
       promises=["`logits` `(..., vocab_size)` -> a new tensor of the same shape.",
                 "Every logit below the row's `k`-th largest becomes `-inf`",
                 "logits tied with the `k`-th are kept, so a row may keep more than `k`;",
                 "the kept logits are returned unchanged.",
                 "`k >= vocab_size` keeps everything.", "The input is not modified"])
def topk_random(t, rng):
    vocab = rng.integer(4, 30)
    shape = rng.choice([(vocab,), (rng.integer(1, 4), vocab), (rng.integer(1, 3), rng.integer(1, 3), vocab)])
    logits = rng.randn(*shape, scale=2.0)
    masked = rng.randn(rng.integer(1, 3), vocab)
    masked[..., rng.sample(range(vocab), vocab // 2)] = -math.inf  # as after an earlier filter
    tied = tied_logits(rng, rng.integer(2, 5), vocab)
    ks = [1, rng.integer(2, vocab - 2), vocab - 1, vocab, vocab + rng.integer(1, 5)]
    return {"random": filter_cases(t.top_k_filter, logits, *ks),
            "ties": filter_cases(t.top_k_filter, tied, 1, 2, 3, rng.integer(4, vocab)),
            "with -inf": filter_cases(t.top_k_filter, masked, 1, rng.integer(2, vocab), vocab)}


def boundary_tie(rng, vocab: int) -> tuple[torch.Tensor, float]:
    """Logits of one row where a group of 2-3 tied tokens straddles the nucleus boundary, and that ``p``:
    the first of the group is needed to reach ``p``, so the whole group is kept."""
    values = [float(rng.integer(-3, 3)) for _ in range(vocab)]
    group = rng.sample(range(vocab), rng.integer(2, 3))
    level = sorted(values)[vocab // 2]
    for i in group:
        values[i] = level + 0.5  # a value no other token has
    logits = torch.tensor([values])
    probs = torch.softmax(logits.double(), dim=-1)[0]
    above = probs[probs > probs[group[0]]].sum().item()
    p = above + probs[group[0]].item() * rng.choice([0.3, 0.5, 0.7])  # inside the group's first member
    return logits, p


@check("top_p_filter: random logits and p, a tied group across the nucleus boundary (kept whole), p = 1 with "
       "probabilities that round to 0 (all kept), a tiny p (the top token, with its ties), rows holding -inf, "
       "1-3 dimensions; the input left alone",
       promises=["`logits` `(..., vocab_size)` -> a new tensor of the same shape.",
                 "a token is kept when the tokens more probable than it, in descending order, have a total "
                 "probability below `p`:",
                 "the smallest set of most probable tokens whose total probability reaches `p`.",
                 "Tokens tied in probability with the least probable kept token are kept too.",
                 "The most probable token is always kept;", "`p = 1` keeps everything.",
                 "The other logits become `-inf`;", "the kept logits are returned unchanged.",
                 "The input is not modified"])
def topp_random(t, rng):
    vocab = rng.integer(5, 30)
    shape = rng.choice([(vocab,), (rng.integer(1, 4), vocab), (rng.integer(1, 3), rng.integer(1, 3), vocab)])
    logits = rng.randn(*shape, scale=rng.choice([1.0, 3.0]))
    p = clear_p(rng, logits, [0.3, 0.5, 0.7, 0.9, 0.95])
    tie, tie_p = boundary_tie(rng, vocab)
    spread = rng.randn(rng.integer(2, 4), vocab, scale=60.0)  # most probabilities are 0 in float32
    # and one row whose leader holds probability exactly 1.0: a cumulative sum reaches 1 at once
    spread[0, rng.integer(0, vocab - 1)] = 500.0
    top_tied = tied_logits(rng, rng.integer(1, 3), vocab)
    masked = rng.randn(2, vocab, scale=2.0)
    masked[:, rng.sample(range(vocab), vocab // 2)] = -math.inf
    return {"random": filter_cases(t.top_p_filter, logits, p, 1.0),
            "tied group at the boundary": filter_cases(t.top_p_filter, tie, tie_p),
            "p = 1, tiny probabilities": filter_cases(t.top_p_filter, spread, 1.0),
            "tiny p, tied top": filter_cases(t.top_p_filter, top_tied, 1e-6),
            "with -inf": filter_cases(t.top_p_filter, masked, clear_p(rng, masked, [0.4, 0.6, 0.8]), 1.0)}


# ----------------------------------------------------------------------------- generate


@check("generate at temperature 0 on small GPT-2s is greedy decoding: prompts shorter and longer than the window, "
       "batch 1-3, rows alone; top_k and top_p change nothing; the generator is not used",
       promises=["Each step calls topic 19's `next_token_logits(model, ids, context_length)`",
                 "`temperature == 0` takes the argmax of each row (the first index on ties): `top_k` and `top_p` "
                 "change nothing then, and the generator is not used.",
                 "Returns `(batch, n + m)` `torch.long` ids, the prompt followed by `m <= max_new_tokens` new ids"])
def greedy_generate_random(t, rng):
    config = small_config(rng, dropout=rng.choice([0.0, 0.3]))
    model = gpt(rng, config)
    vocab, context = config.vocab_size, config.context_length
    out = {}
    for label, n in (("shorter", rng.integer(1, context - 1)), ("longer", context + rng.integer(1, 4))):
        steps = rng.integer(context, context + 3)
        ids = clear_prompt(rng, model, rng.integer(1, 3), n, steps, context, vocab)
        out[label] = t.generate(model, ids, steps, context)
        out[f"{label}, filters set"] = generation_probe(
            t, rng, model, ids, steps, context, torch.Generator().manual_seed(rng.integer(0, 2**31 - 1)),
            top_k=rng.integer(1, 4), top_p=rng.choice([0.3, 0.9]))
        out[f"{label}, rows alone"] = [t.generate(model, ids[i:i + 1], steps, context) for i in range(ids.shape[0])]
    return out


@check("generate with sampling on small GPT-2s, seeded generators: temperature with top_k, with top_p and with "
       "both; batches of 1-3 rows; prompts longer than the window",
       promises=["with `temperature > 0`, it divides the logits by `temperature`, then applies `top_k_filter` when "
                 "`top_k` is given, then `top_p_filter` when `top_p` is given, then draws with topic 23's "
                 "`sample_next_token(logits, 1.0, generator=generator)`:",
                 "one `torch.multinomial` draw for the whole batch per step.",
                 "With a `generator`, torch's global random state is untouched.",
                 "The prompt tensor is left unchanged and the model's train/eval mode is left as it was."])
def sampled_generate_random(t, rng):
    config = small_config(rng)
    model = gpt(rng, config)
    vocab, context = config.vocab_size, config.context_length
    out = []
    for top_k, top_p in ((rng.integer(2, vocab // 2), None), (None, rng.choice([0.5, 0.8, 0.95])),
                         (rng.integer(3, vocab // 2), rng.choice([0.6, 0.9]))):
        temperature = rng.choice([0.6, 1.0, 1.5])
        steps = rng.integer(3, 6)
        options = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
        ids, generator = clear_run(rng, model, (rng.integer(1, 3), context + rng.integer(0, 3)), steps, context,
                                   **options)
        out.append(generation_probe(t, rng, model, ids, steps, context, generator, **options))
    return out


def order_model(rng, logits: list[float], rows: int) -> tuple[TableModel, torch.Tensor]:
    """A stand-in model whose next-token logits after id 0 are ``logits`` (shuffled), and ``rows`` prompts
    ending in id 0."""
    vocab = len(logits)
    order = rng.sample(range(vocab), vocab)
    table = rng.randn(vocab, vocab)
    table[0] = torch.tensor(logits)[order]
    ids = rng.randint(0, vocab, (rows, rng.integer(1, 3)))
    ids[:, -1] = 0
    return TableModel(table, 4), ids


@check("the order of the steps: top-p acts on the tempered distribution (T = 2 keeps two tokens where T = 1 would "
       "keep one) and after top-k (the renormalized top-2 keeps one token where the full distribution keeps more); "
       "the temperature divides the logits once",
       promises=["then applies `top_k_filter` when `top_k` is given, then `top_p_filter` when `top_p` is given",
                 "with `temperature > 0`, it divides the logits by `temperature`"])
def order_random(t, rng):
    rows = rng.integer(40, 64)
    # T = 2: probabilities 0.44 and 0.34 for the two leaders, top-p 0.55 keeps both; at T = 1 (0.61 and 0.37)
    # the leader alone would reach 0.55
    hot, hot_ids = order_model(rng, [2.0, 1.5] + [-3.0] * 6, rows)
    hot_gen = clear_generator(rng, torch.softmax(keep_nucleus(hot(hot_ids)[:, -1] / 2.0, 0.55), dim=-1))
    # top-2 renormalized: 0.55 and 0.45, top-p 0.5 keeps the leader alone; on the full distribution (leader
    # 0.18) top-p would keep several tokens, and top-2 of those two
    mixed, mixed_ids = order_model(rng, [1.0, 0.8] + [0.5] * 6, rows)
    # T = 3 once: the two survivors of top-2 are drawn at odds e^(3/3) = 2.7 to 1; at T = 9 (tempered twice)
    # or T = 1 (not at all) about one row in seven would come out differently
    once, once_ids = order_model(rng, [3.0, 0.0] + [-10.0] * 6, 64)
    once_gen = clear_generator(rng, torch.softmax(keep_largest(once(once_ids)[:, -1] / 3.0, 2), dim=-1))
    return {"temperature applied once": generation_probe(t, rng, once, once_ids, 1, 4, once_gen, temperature=3.0,
                                                         top_k=2),
            "temperature, then top-p": generation_probe(t, rng, hot, hot_ids, 1, 4, hot_gen, temperature=2.0,
                                                        top_p=0.55),
            "top-k, then top-p": generation_probe(t, rng, mixed, mixed_ids, 1, 4,
                                                  torch.Generator().manual_seed(rng.integer(0, 2**31 - 1)),
                                                  temperature=1.0, top_k=2, top_p=0.5)}


@check("eos_id: random chains, rows finishing at different steps (padded with eos_id afterwards), early stop, "
       "max_new_tokens reached first, eos_id in the prompt, greedy and sampled, eos_id None",
       promises=["With `eos_id`, a row that has produced `eos_id` gets `eos_id` at every later step, while still "
                 "taking part in each draw,",
                 "and generation stops as soon as every row has produced it.",
                 "An `eos_id` in the prompt does not count.",
                 "Returns `(batch, n + m)` `torch.long` ids, the prompt followed by `m <= max_new_tokens` new ids"])
def eos_random(t, rng):
    vocab, context = rng.integer(8, 20), rng.integer(2, 5)
    eos = rng.integer(0, vocab - 1)
    model, line = eos_chain(rng, vocab, context, eos)
    steps_to_eos = rng.sample(range(1, len(line) + 1), rng.integer(2, 4))
    longest = max(steps_to_eos)
    ids = chain_prompts(rng, line, steps_to_eos, rng.integer(2, 6))
    ids[0, rng.integer(0, ids.shape[1] - 2)] = eos  # inside a prompt: it finishes nothing
    sampled = {"temperature": rng.choice([0.5, 1.0, 2.0]), "top_k": rng.choice([None, 3]),
               "top_p": rng.choice([None, 0.9])}
    return {"greedy, early stop": t.generate(model, ids, longest + rng.integer(1, 4), context, eos_id=eos),
            "greedy, max_new_tokens first": t.generate(model, ids, longest - 1, context, eos_id=eos),
            "sampled, early stop": generation_probe(t, rng, model, ids, longest + rng.integer(1, 4), context,
                                                    torch.Generator().manual_seed(rng.integer(0, 2**31 - 1)),
                                                    eos_id=eos, **sampled),
            "no eos_id": t.generate(model, ids, longest + 2, context),
            "eos at the end of a prompt": t.generate(model, torch.full((1, 2), eos), 3, context, eos_id=eos)}


@check("generator=None draws from torch's global generator (seeded by the check); a model in train mode stays "
       "in train mode; max_new_tokens = 0 returns the prompt",
       promises=["`generator=None` draws from torch's global generator.",
                 "The prompt tensor is left unchanged and the model's train/eval mode is left as it was.",
                 "Returns `(batch, n + m)` `torch.long` ids"])
def global_generate_random(t, rng):
    vocab, context = rng.integer(8, 20), rng.integer(2, 5)
    model, line = eos_chain(rng, vocab, context, eos_id=rng.integer(0, vocab - 1))
    model.train()
    ids = rng.randint(0, vocab, (rng.integer(1, 3), rng.integer(1, 6)))
    seed = rng.integer(0, 2**31 - 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        out = generation_probe(t, rng, model, ids, rng.integer(2, 6), context, temperature=rng.choice([0.7, 1.3]),
                               top_k=rng.choice([None, 4]))
        out["global generator's next draws"] = torch.randint(0, 2**31, (3,))
    out["max_new_tokens 0"] = t.generate(model, ids, 0, context, temperature=1.0)
    return out


@check("errors: max_new_tokens < 0, temperature < 0, top_k < 1, top_p outside (0, 1] - in generate and in the "
       "filters, each naming the value; valid calls raise nothing",
       promises=["`k < 1` raises `ValueError` naming it.",
                 "`p` outside `(0, 1]` raises `ValueError` naming it.",
                 "`max_new_tokens < 0`, `temperature < 0`, `top_k < 1` and `top_p` outside `(0, 1]` raise "
                 "`ValueError` naming the value"])
def errors_random(t, rng):
    vocab, context = rng.integer(6, 12), rng.integer(2, 5)
    model, _ = eos_chain(rng, vocab, context, eos_id=0)
    ids = rng.randint(0, vocab, (rng.integer(1, 3), rng.integer(1, 4)))
    logits = rng.randn(2, vocab)
    steps, temperature = -rng.integer(1, 4), -rng.choice([0.5, 1.5])
    k, low_p, high_p = -rng.integer(1, 3), -rng.choice([0.25, 0.5]), rng.choice([1.5, 2.5])
    seeded = torch.Generator().manual_seed(rng.integer(0, 2**31 - 1))
    return [error_case(f"generate(max_new_tokens={steps})", t.generate, model, ids, steps, context, names=[steps]),
            error_case(f"generate(temperature={temperature})", t.generate, model, ids, 2, context,
                       temperature=temperature, names=[temperature]),
            error_case(f"generate(top_k={k})", t.generate, model, ids, 2, context, temperature=1.0, top_k=k,
                       generator=seeded, names=[k]),
            error_case("generate(top_k=0)", t.generate, model, ids, 2, context, top_k=0, names=[0]),
            error_case("generate(top_p=0)", t.generate, model, ids, 2, context, top_p=0, names=[0]),
            error_case(f"generate(top_p={high_p})", t.generate, model, ids, 2, context, temperature=1.0, top_p=high_p,
                       generator=seeded, names=[high_p]),
            error_case("top_k_filter(k=0)", t.top_k_filter, logits, 0, names=[0]),
            error_case(f"top_k_filter(k={k})", t.top_k_filter, logits, k, names=[k]),
            error_case("top_p_filter(p=0)", t.top_p_filter, logits, 0, names=[0]),
            error_case(f"top_p_filter(p={low_p})", t.top_p_filter, logits, low_p, names=[low_p]),
            error_case(f"top_p_filter(p={high_p})", t.top_p_filter, logits, high_p, names=[high_p]),
            error_case("generate(temperature=1.0, top_k=2, top_p=0.5)", t.generate, model, ids, 2, context,
                       temperature=1.0, top_k=2, top_p=0.5, generator=seeded)]
