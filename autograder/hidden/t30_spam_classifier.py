"""Hidden checks for topic 30 - the spam classifier, end to end (fresh seed every run)."""

import torch

from checks.t30_spam_classifier import (
    classify_errors,
    classify_probe,
    history_probe,
    learn_compare,
    learn_probe,
    no_steps_probe,
    train_errors,
)
from llmkit.checks import check

NOT_BEHAVIOUR = {
    "In `spam.py` (it imports": "where the code goes and what it builds on",
    "Given: `evaluate_classifier(": "code handed out, not written by the learner",
}

LOOP_PROMISES = [
    "finetunes `model` for `num_epochs` passes over `train_loader`, one optimizer step per `(inputs, labels, "
    "lengths)` batch.",
    "Each step runs, in order: `model.train()`, `optimizer.zero_grad()`, topic 29's `calc_loss_batch(inputs, labels, "
    "lengths, model, device)`, `backward()` and `optimizer.step()`, whatever mode the model came in and whatever "
    "gradients it held before.",
    "After each step, `examples_seen` grows by the batch size and, when given, `on_step(step, loss)` is called with "
    "the number of steps done (1, 2, ...) and the batch's loss as a float.",
    "An evaluation (the given `evaluate_classifier` with `eval_batches`) runs after every step whose number is a "
    "multiple of `eval_every`, and once more after the last step unless that step was just evaluated;",
    "Each evaluation appends the step number to `steps` and its four measurements to `train_loss`, `val_loss`, "
    "`train_acc` and `val_acc`.",
    "It returns the dict `{\"steps\", \"train_loss\", \"val_loss\", \"train_acc\", \"val_acc\", \"examples_seen\"}`: "
    "lists with one entry per evaluation, and an int.",
    "Frozen parameters stay as they are."]


@check("train_classifier on a random table classifier (handed over in eval mode with stale gradients and a frozen "
       "parameter; SGD with momentum or AdamW; 2 epochs; an eval_every the step count is no multiple of; "
       "eval_batches=1): the history, the on_step calls, the weights after training, train mode for steps",
       promises=LOOP_PROMISES)
def history_off_cadence(t, rng):
    return history_probe(t, rng, 1, aligned=False)  # 1 < every loader's length: eval_batches matters


@check("train_classifier with the last step on the cadence (eval_every 1 or the step count; 1-2 epochs; "
       "eval_batches=None): no second evaluation of the last step, every batch measured",
       promises=LOOP_PROMISES[3:5] + ["(the given `evaluate_classifier` with `eval_batches`)"])
def history_on_cadence(t, rng):
    return history_probe(t, rng, None, aligned=True)


@check("train_classifier with num_epochs=0 and with an empty training loader: no step, no evaluation, no on_step "
       "call, empty lists and examples_seen 0; num_epochs < 0 and eval_every < 1 raise ValueError before any step",
       promises=["without any step there is no evaluation.",
                 "`num_epochs < 0` or `eval_every < 1` raises `ValueError` naming the value, before any step"])
def no_steps_and_errors(t, rng):
    return [no_steps_probe(t, rng), train_errors(t, rng)]


@check("train_classifier finetunes a fresh tiny GPT (topic 27's head) on 160 random SMS messages through topic "
       "28's loaders, 4 epochs: it classifies 400 held-out messages at >= 70 % (or within 5 points of the "
       "reference's own run); history keys, evaluations and examples_seen as the reference's",
       compare=learn_compare,
       promises=["A correct loop finetunes a tiny GPT on 160 real SMS messages (4 epochs) to classify held-out "
                 "messages well above chance."])
def learns_spam(t, rng):
    return learn_probe(t, rng)


@check("classify on random table classifiers (2 classes with the default labels, 3 with custom ones; starting "
       "in train mode with dropout, device 'cpu'): texts shorter than, equal to and longer than the context, "
       "max_length below, above and beyond the text, one token; the label, the (1, n) ids read in eval mode "
       "without gradients, the mode restored",
       promises=["returns `labels[i]`, where `i` is the argmax of the scores at the last token of `text`.",
                 "It encodes `text` with `tokenizer.encode` and keeps the first `min(max_length, "
                 "model.config.context_length)` tokens, or the first `context_length` when `max_length` is `None`.",
                 "There is no padding: the model runs once, on a `(1, n)` tensor of the `n` kept ids on `device`, in "
                 "eval mode and under `torch.no_grad()`.", "Afterwards the model is back in the mode it had."])
def classify_train_mode(t, rng):
    return classify_probe(t, rng, True, "cpu")


@check("classify as above, the model starting in eval mode, device torch.device('cpu')",
       promises=["Afterwards the model is back in the mode it had.", "on `device`"])
def classify_eval_mode(t, rng):
    return classify_probe(t, rng, False, torch.device("cpu"))


@check("classify with an empty text, max_length=0, and 2 or 4 labels for a 3-class model: ValueError (naming the "
       "numbers), the model's mode unchanged",
       promises=["A text that encodes to no token raises `ValueError`;",
                 "so does `max_length < 1` (naming it), and a model whose number of scores differs from `len(labels)` "
                 "(naming both numbers)"])
def classify_bad_arguments(t, rng):
    return classify_errors(t, rng)
