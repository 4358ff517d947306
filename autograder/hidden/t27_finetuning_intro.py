"""Hidden checks for topic 27 - introduction to finetuning (fresh seed every run)."""

from checks.t27_finetuning_intro import (
    count_probe,
    head_dtype_device,
    head_errors,
    head_report,
    prepare_errors,
    prepare_report,
    set_trainable_errors,
    set_trainable_probe,
    tiny_config,
    tiny_model,
)
from llmkit.checks import check

NOT_BEHAVIOUR = {
    "In `freeze.py` (it imports": "where the code goes and what it builds on",
    "The new head starts from PyTorch's default initialization": "a hint: the checks overwrite the head's values",
    "the checks overwrite its values, so any initialization passes": "a hint about the checks",
}


@check("set_trainable on random models from a random freeze pattern: the whole model, one block, a nested "
       "attention, the final norm twice, the position embedding, modules without parameters; values, buffers and "
       "train/eval modes untouched",
       promises=["sets `requires_grad` of every parameter of `module`, its submodules' included, to `trainable`.",
                 "It returns `None` and changes nothing else: no value, no buffer, not the train/eval mode.",
                 "A module without parameters is fine (nothing to do)."])
def set_trainable_random(t, rng):
    return set_trainable_probe(t, rng, tiny_config(rng, num_layers=rng.integer(2, 3)))


@check("set_trainable(model, 0 / 1 / 'no' / None) raises TypeError naming the value and changes no flag",
       promises=["`trainable` must be a `bool`, else `TypeError` naming it, and no flag changes"])
def set_trainable_not_bool(t, rng):
    return set_trainable_errors(t, rng, tiny_config(rng))


@check("count_trainable on tied and untied random models (all trainable, random patterns, the tied weight frozen, "
       "all frozen), on two linear maps sharing a weight, and on the meta device",
       promises=["returns the number of parameter values with `requires_grad`, as an `int`.",
                 "A parameter shared by two modules (a tied head and embedding) counts once.",
                 "Frozen parameters and buffers do not count.", "It works on the `meta` device"])
def count_random(t, rng):
    return count_probe(t, rng)


@check("replace_head on a tied and an untied random model (from random freeze patterns and modes) with 1 and "
       "2-6 classes: a trainable nn.Linear(d_model, num_classes) with a bias at out_head, returned; the embedding "
       "and everything else untouched; the scores with given head values",
       promises=["puts a new `nn.Linear(d_model, num_classes)` with a bias at `model.out_head` and returns it, where "
                 "`d_model` is `model.config.d_model`.", "The new head is trainable",
                 "Afterwards `model(ids)` gives `(batch, seq, num_classes)` scores.",
                 "Nothing else changes: the token embedding stays the same `Parameter` with the same values and the "
                 "same `requires_grad`, and so does every other parameter, buffer and train/eval mode, and "
                 "`model.config`.", "A tied head stops being tied: the embedding keeps the old weight."])
def head_random(t, rng):
    out = []
    one_class_tied = rng.coin()  # one of the two models gets a single output, every run
    for tie in (True, False):
        num_classes = 1 if tie == one_class_tied else rng.integer(2, 6)
        config = tiny_config(rng, tie_weights=tie)
        out.append(head_report(t, rng, tiny_model(rng, config), config, num_classes))
    return out


@check("replace_head on a float64 model and on a model on the meta device: the head has the embedding's dtype and "
       "device",
       promises=["on the token embedding's device and in its dtype."])
def head_follows_model(t, rng):
    return head_dtype_device(t, rng)


@check("replace_head with num_classes 0, negative, 2.5 or True raises ValueError naming it; the old head stays",
       promises=["`num_classes` must be an `int >= 1`, else `ValueError` naming it, and the model is left as it "
                 "was"])
def head_bad_classes(t, rng):
    return head_errors(t, rng, tiny_config(rng))


@check("prepare_for_classification on random models (1-3 blocks, from random freeze patterns): the defaults, "
       "trainable_blocks 0, all and in between, train_final_norm both ways, 1-5 classes; exactly the intended "
       "parameters train and get gradients",
       promises=["freezes every parameter, replaces the head with `replace_head`, unfreezes the last "
                 "`trainable_blocks` blocks of `model.blocks` and, when `train_final_norm`, the final norm, and "
                 "returns `model` itself.",
                 "So exactly these parameters train afterwards: the new head's weight and bias, every parameter of "
                 "the last `trainable_blocks` blocks, and the final norm's when asked - whatever was trainable or "
                 "frozen before.", "`trainable_blocks=0` trains no block, `len(model.blocks)` trains them all.",
                 "The weights keep their values."])
def prepare_random(t, rng):
    config = tiny_config(rng, num_layers=rng.integer(2, 3))  # >= 2 blocks: the last ones differ from the first
    blocks = config.num_layers
    norm = rng.coin()
    cases = [dict(), dict(trainable_blocks=0, train_final_norm=norm),
             dict(num_classes=rng.integer(1, 5), trainable_blocks=blocks, train_final_norm=not norm),
             dict(num_classes=rng.integer(1, 5), trainable_blocks=rng.integer(1, blocks - 1),
                  train_final_norm=rng.coin())]
    out = [prepare_report(t, rng, config, **kwargs) for kwargs in cases]
    single = tiny_config(rng, num_layers=1)  # one block: trainable_blocks=1 trains all of it
    return out + [prepare_report(t, rng, single, trainable_blocks=1, train_final_norm=rng.coin())]


@check("prepare_for_classification with trainable_blocks -1 or one more than the blocks, or num_classes 0: "
       "ValueError naming the value (and the number of blocks), the model left as it was",
       promises=["`trainable_blocks` must be an int from 0 to `len(model.blocks)`, else `ValueError` naming it and "
                 "the number of blocks;", "`num_classes` must be an `int >= 1`, else `ValueError` naming it.",
                 "Both are checked before anything changes"])
def prepare_bad_arguments(t, rng):
    return prepare_errors(t, rng, tiny_config(rng))
