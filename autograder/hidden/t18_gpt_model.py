"""Hidden checks for topic 18 - the GPT-2 model (fresh seed every run)."""

import torch
from torch import nn

from checks.t18_gpt_model import (
    GPT2_SMALL,
    count_compare,
    dropout_compare,
    dropout_probe,
    fresh_model_statistics,
    gpt_config,
    ids_future_probe,
    init_compare,
    init_summary,
    labelled_count,
    layout,
    memory_cases,
    model_params,
    model_shapes,
    model_with,
    on_meta,
    random_config,
    too_long_case,
    tying_probe,
)
from llmkit.attention_probes import no_future_compare
from llmkit.checks import check
from llmkit.probing import error_case, load_params, seeded
from llmkit.values import Mismatch, same

NOT_BEHAVIOUR = {
    "In `model.py` (it imports": "where the code goes and what it builds on",
    "Given: `build_on_meta(config)`": "code handed out, not written by the learner",
}

# the four published GPT-2 sizes: d_model, num_heads, num_layers (Radford et al., 2019, table 2)
PRESETS = {"124M": (768, 12, 12), "355M": (1024, 16, 24), "774M": (1280, 20, 36), "1558M": (1600, 25, 48)}


def both_ways(rng):
    """``(tie_weights, qkv_bias)`` pairs covering tied and untied, with and without qkv bias, every run."""
    bias = rng.coin()
    return [(True, bias), (False, not bias)]


@check("parameter names and shapes (tied and untied, qkv bias both ways, 2-3 layers); separate blocks in an "
       "nn.Sequential or nn.ModuleList; a bias-free nn.Linear head; the config kept as .config",
       promises=["builds `embedding`, a topic-06 `InputEmbedding(vocab_size, context_length, d_model, dropout)`;",
                 "`blocks`, `num_layers` separate topic-17 `TransformerBlock(d_model, num_heads, context_length, "
                 "dropout, qkv_bias)` modules in an `nn.Sequential` or an `nn.ModuleList`;",
                 "and `out_head`, an `nn.Linear(d_model, vocab_size, bias=False)`.",
                 "The parameters are exactly `embedding.tok_emb.weight` `(vocab_size, d_model)`",
                 "Without tying the head's weight is a parameter of its own.",
                 "The attribute `config` holds the config"])
def layout_random(t, rng):
    out = []
    for tie, qkv_bias in both_ways(rng):
        config = random_config(rng, tie_weights=tie, qkv_bias=qkv_bias, min_layers=2)
        model = t.GPTModel(config)
        blocks = getattr(model, "blocks", None)
        head = getattr(model, "out_head", None)
        out.append({
            "parameters": layout(model),
            "blocks in nn.Sequential or nn.ModuleList": isinstance(blocks, (nn.Sequential, nn.ModuleList)),
            "number of blocks": len(blocks) if blocks is not None else None,
            "number of distinct block objects": len({id(b) for b in blocks}) if blocks is not None else None,
            "out_head is a bias-free nn.Linear": isinstance(head, nn.Linear) and head.bias is None,
            "config attribute": getattr(model, "config", None) == config,
        })
    return out


@check("logits equal the reference given weights: random configs, tied and untied, qkv bias both ways, "
       "sequences of context_length, 1 and a random number of tokens, eval mode with dropout > 0",
       promises=["from a topic-13 `GPTConfig`",
                 "`ids` `(batch, seq)` integer tensor -> logits `(batch, seq, vocab_size)` float, no softmax: "
                 "`embedding`, then every block in order, then `final_norm`, then `out_head`.",
                 "Positions are `0..seq-1`, for every `1 <= seq <= context_length`.",
                 "`final_norm`, a topic-14 `LayerNorm(d_model)`;",
                 "the topic-17 block parameters under `blocks.{i}.` for `i` in `0..num_layers-1`"])
def logits_random(t, rng):
    out = []
    for (tie, qkv_bias), min_layers in zip(both_ways(rng), (2, 1)):  # one model of >= 2 blocks every run
        config = random_config(rng, tie_weights=tie, qkv_bias=qkv_bias, dropout=rng.choice([0.1, 0.5]),
                               min_layers=min_layers)
        model = model_with(t, rng, config).eval()
        vocab, context = config.vocab_size, config.context_length
        # the whole context every time, and one token (the first model) or a random length (the second)
        for seq in (context, 1 if min_layers == 2 else rng.integer(1, context)):
            out.append(model(rng.randint(0, vocab, (rng.integer(1, 3), seq))))
    return out


def final_norm_compare(got, expected, *, reveal: bool) -> None:
    try:
        same(got, expected, reveal=reveal, path="logits")
    except Mismatch as exc:
        raise Mismatch(f"{exc} - with final_norm.weight = 0 the final LayerNorm outputs final_norm.bias at every "
                       "position, so every position's logits must be out_head(final_norm.bias): is final_norm "
                       "applied to the last block's output, right before out_head?") from None


@check("final_norm sits between the last block and the head: with its weight 0 every position's logits are "
       "out_head(final_norm.bias)", compare=final_norm_compare,
       promises=["`final_norm`, a topic-14 `LayerNorm(d_model)`;", "then `final_norm`, then `out_head`."])
def final_norm_random(t, rng):
    config = random_config(rng, tie_weights=rng.coin(), qkv_bias=rng.coin())
    params = model_params(rng, config)
    params["final_norm.weight"] = torch.zeros(config.d_model)
    model = model_with(t, rng, config, params).eval()
    return model(rng.randint(0, config.vocab_size, (2, config.context_length)))


@check("a module put in out_head's place is the one forward uses: an nn.Linear with a bias and a random number "
       "of outputs, and a module of another kind (tied and untied models)",
       promises=["Each is called as the module it is (`self.out_head(x)`, not its weight), so a module put in its "
                 "place is used"])
def swapped_head_random(t, rng):
    out = []
    for tie in (True, False):
        config = random_config(rng, tie_weights=tie, qkv_bias=rng.coin())
        model = model_with(t, rng, config).eval()
        ids = rng.randint(0, config.vocab_size, (2, rng.integer(1, config.context_length)))
        head = nn.Linear(config.d_model, rng.integer(1, 5))
        with torch.no_grad():
            head.weight.copy_(rng.randn(*head.weight.shape))
            head.bias.copy_(rng.randn(*head.bias.shape) + 3.0)  # a bias far from 0: ignoring it shows
        model.out_head = head
        linear = model(ids)
        model.out_head = nn.Sequential(nn.Linear(config.d_model, 2, bias=False), nn.Tanh())
        with torch.no_grad():
            model.out_head[0].weight.copy_(rng.randn(2, config.d_model))
        out.append({"an nn.Linear with a bias": linear, "nn.Sequential(Linear, Tanh)": model(ids)})
    return out


@check("tying: the head IS embedding.tok_emb.weight (listed once, edits and gradients shared, both state-dict "
       "keys, one SGD step); untied: a separate parameter",
       promises=["With `config.tie_weights`, `out_head.weight` is the very `nn.Parameter` object "
                 "`embedding.tok_emb.weight`: `named_parameters()` lists it once, as `embedding.tok_emb.weight`;",
                 "an in-place change of the embedding changes the head;",
                 "gradients from both uses add up in one `.grad`;", "`state_dict()` holds both keys.",
                 "Without tying the head's weight is a parameter of its own."])
def tying_random(t, rng):
    return [tying_probe(t, rng, random_config(rng, tie_weights=tie, qkv_bias=qkv_bias, max_layers=2,
                                              min_context=3, max_context=6))
            for tie, qkv_bias in both_ways(rng)]


@check("changing later tokens leaves every earlier position's logits unchanged (random split, 1-3 layers)",
       compare=no_future_compare,
       promises=["The logits at position `t` depend only on `ids[:, 0..t]`."])
def no_future_random(t, rng):
    config = random_config(rng, tie_weights=rng.coin(), qkv_bias=rng.coin(), min_context=3)
    model = model_with(t, rng, config).eval()
    ids = rng.randint(0, config.vocab_size, (rng.integer(1, 3), rng.integer(2, config.context_length)))
    return ids_future_probe(model, rng, ids, config.vocab_size)


def init_config(rng, num_layers: int):
    """Large enough for tight statistics (every weight tensor has >= 2,048 values), small enough to be fast."""
    heads = rng.choice([2, 4, 8])
    return gpt_config(rng.integer(64, 160), rng.integer(32, 48), 64, heads, num_layers, dropout=0.1,
                      qkv_bias=rng.coin(), tie_weights=rng.coin())


@check("a fresh GPTModel follows GPT-2's init (random size, tied or not): N(0, 0.02^2), residual "
       "projections / sqrt(2 * num_layers), biases 0, LayerNorm weights 1", compare=init_compare,
       promises=["Last, `__init__` calls `init_gpt2_weights(self, config.num_layers)`.",
                 "a name ending in `attn.out_proj.weight` or `ff.proj.weight` gets",
                 "every other weight with two or more dimensions", "every bias gets 0;",
                 "every LayerNorm weight gets 1"])
def fresh_init_random(t, rng):
    return fresh_model_statistics(t, rng, init_config(rng, rng.integer(2, 4)))


@check("init_gpt2_weights on a model full of other values, with a num_layers argument other than the model's: "
       "overwrites every parameter in place by name, returns None", compare=init_compare,
       promises=["in place, for every parameter of `model` by its name, and returns `None`:",
                 "where `num_layers` is the argument;", "every other weight with two or more dimensions",
                 "every bias gets 0;", "every LayerNorm weight gets 1"])
def init_function_random(t, rng):
    built_layers = rng.integer(1, 2)
    argument = built_layers + rng.integer(1, 6)  # differs from the model's depth, so it must be read
    config = init_config(rng, built_layers)
    model = t.GPTModel(config)
    load_params(model, rng.params(model_shapes(config), scale=3.0), "t18 GPTModel")  # nothing left of the init
    with seeded(rng):
        returned = t.init_gpt2_weights(model, argument)
    if returned is not None:
        raise Mismatch(f"init_gpt2_weights returned a {type(returned).__name__}; it works in place and returns None")
    return init_summary(model, argument)


@check("count_parameters and the model's own parameters on the meta device: GPT-2 small tied and untied, every "
       "published width (1 layer), random configs - all equal to topic 13's formula", compare=count_compare,
       promises=["It works on the `meta` device.",
                 "For `GPTModel(config)` it equals topic 13's `count_parameters(config)`: 124,439,808 for GPT-2 "
                 "small, 163,037,184 untied"])
def count_random(t, rng):
    cases = [labelled_count(t, gpt_config(**GPT2_SMALL, tie_weights=tie), f"GPT-2 small, tie_weights={tie}")
             for tie in (True, False)]
    for size, (d_model, heads, _) in PRESETS.items():
        tie, qkv_bias, layers = rng.coin(), rng.coin(), 1
        config = gpt_config(50257, 1024, d_model, heads, layers, 0.1, qkv_bias, tie)
        cases.append(labelled_count(t, config, f"GPT-2 {size} widths with {layers} layer(s), tie_weights={tie}, "
                                               f"qkv_bias={qkv_bias}"))
    for _ in range(2):
        config = random_config(rng, tie_weights=rng.coin(), qkv_bias=rng.coin(), max_context=64)
        cases.append(labelled_count(t, config, f"random config {config}"))
    return cases


@check("count_parameters on any module: a shared parameter once, frozen parameters too, buffers never",
       promises=["the number of distinct parameter values of any `nn.Module`: a parameter held by several "
                 "modules counts once, frozen parameters (`requires_grad=False`) count too, and buffers do not "
                 "count."])
def count_any_module(t, rng):
    a, b = rng.integer(2, 9), rng.integer(2, 9)
    shared = nn.Linear(a, b)
    twice = nn.Sequential(shared, nn.Tanh(), nn.Linear(b, a), shared)
    with_buffer = nn.Linear(a, b)
    with_buffer.register_buffer("table", torch.zeros(rng.integer(10, 50)))
    config = random_config(rng, tie_weights=rng.coin(), qkv_bias=rng.coin())
    model = t.GPTModel(config)
    before = t.count_parameters(model)
    for p in model.parameters():
        if rng.coin():
            p.requires_grad_(False)
    return {"linear used twice": t.count_parameters(twice), "linear with a buffer": t.count_parameters(with_buffer),
            "GPTModel": before, "GPTModel, some parameters frozen": t.count_parameters(model)}


@check("parameter_memory: float32 4, bfloat16 and float16 2, float64 8 bytes a parameter, whatever the model's "
       "own dtype; a model on the meta device",
       promises=["the bytes the distinct parameters take when stored as `dtype`",
                 "It depends on the `dtype` argument only, not on the dtype the model has now"])
def memory_random(t, rng):
    config = random_config(rng, tie_weights=rng.coin(), qkv_bias=rng.coin())
    model = t.GPTModel(config)
    cases = memory_cases(t, model, "float32 model")
    cases |= memory_cases(t, model.to(torch.float64), "float64 model")
    cases |= memory_cases(t, model.to(torch.bfloat16), "bfloat16 model")
    size, (d_model, heads, _) = rng.choice(list(PRESETS.items()))
    wide = on_meta(t, gpt_config(50257, 1024, d_model, heads, 1, 0.1, True, rng.coin()))
    return cases | memory_cases(t, wide, f"GPT-2 {size}'s widths, 1 layer, on meta")


@check("train mode: the embedding drops (token + position) at rate config.dropout, every block drops each "
       "branch's output at that rate", compare=dropout_compare,
       promises=["In training mode dropout with rate `config.dropout` acts in the embedding and in every block;"])
def dropout_random(t, rng):
    heads = rng.integer(1, 4)
    d_model = heads * rng.integer(-(-16 // heads), 32 // heads)  # 16-32 features: enough elements per mask
    config = gpt_config(rng.integer(20, 100), rng.integer(8, 12), d_model, heads, rng.integer(1, 3),
                        rng.choice([0.2, 0.3, 0.5]), rng.coin(), rng.coin())
    return dropout_probe(t, rng, config, batch=4)


@check("eval mode: logits are deterministic and equal those of the same model without dropout",
       promises=["in eval mode the logits are deterministic"])
def eval_mode_random(t, rng):
    tie, qkv_bias = rng.coin(), rng.coin()
    dropping_config = random_config(rng, tie_weights=tie, qkv_bias=qkv_bias, dropout=rng.choice([0.3, 0.7]))
    params = model_params(rng, dropping_config)
    plain_config = gpt_config(dropping_config.vocab_size, dropping_config.context_length, dropping_config.d_model,
                              dropping_config.num_heads, dropping_config.num_layers, 0.0, qkv_bias, tie)
    dropping = model_with(t, rng, dropping_config, params).eval()
    plain = model_with(t, rng, plain_config, params).eval()
    ids = rng.randint(0, dropping_config.vocab_size, (2, dropping_config.context_length))
    return [dropping(ids), dropping(ids), plain(ids)]


@check("seq > context_length raises ValueError naming both numbers; exactly context_length tokens raise nothing",
       promises=["`seq > context_length` raises `ValueError` naming both numbers",
                 "for every `1 <= seq <= context_length`"])
def errors_random(t, rng):
    config = random_config(rng, tie_weights=rng.coin(), qkv_bias=rng.coin(), min_context=1)
    model = model_with(t, rng, config).eval()
    ids = rng.randint(0, config.vocab_size, (1, config.context_length))
    return [too_long_case(t, rng, config, config.context_length + rng.integer(1, 6)),
            error_case(f"GPTModel(context_length={config.context_length}) on exactly that many tokens", model, ids)]
