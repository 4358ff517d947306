"""Public checks for topic 29 - the classification model.

The helpers here are reused by the hidden checks of this topic (and by topic 30's):
a word tokenizer whose words are the ids, tiny GPT classifiers (topic 18's model
with topic 27's head, given weights), padded batches with every kind of length,
a "table" classifier whose answers are known in advance, loaders that count what
they serve or fail midway, and a wrapper that records how the model was run.
"""

from __future__ import annotations

import importlib

import torch
from torch import nn

from checks.t18_gpt_model import gpt_config, model_with
from llmkit.checks import check
from llmkit.probing import Rng, error_case
from llmkit.values import Mismatch

T18, T27, T28 = "course.t18_gpt_model", "course.t27_finetuning_intro", "course.t28_classification_data"


def topic(name: str):
    """An earlier topic, resolved like the learner's own import."""
    return importlib.import_module(name)


# ----------------------------------------------------------------------------- texts and tokens


class WordTokenizer:
    """A stand-in tokenizer for checks: a text is ids written as words (``"5 3 12"`` -> ``[5, 3, 12]``)."""

    def encode(self, text: str) -> list[int]:
        return [int(word) for word in text.split()]

    def decode(self, ids) -> str:
        return " ".join(str(int(i)) for i in ids)


def random_lengths(rng: Rng, batch: int, seq: int) -> list[int]:
    """``batch >= 3`` lengths in ``[1, seq]``, in random order: one full row (no padding), one of a single token,
    the others anywhere."""
    lengths = [seq, 1] + [rng.integer(1, seq) for _ in range(batch - 2)]
    return rng.sample(lengths, batch)


def padded_batch(rng: Rng, lengths: list[int], seq: int, vocab: int, pad_id: int) -> torch.Tensor:
    """``(batch, seq)`` ids: row ``b`` holds ``lengths[b]`` real tokens (ids other than ``pad_id``), then padding."""
    real = [i for i in range(vocab) if i != pad_id]
    rows = []
    for length in lengths:
        rows.append([rng.choice(real) for _ in range(length)] + [pad_id] * (seq - length))
    return torch.tensor(rows, dtype=torch.long)


# ----------------------------------------------------------------------------- models


def tiny_config(rng: Rng, dropout: float = 0.0, min_context: int = 4):
    """A tiny topic-13 config: vocab 20-60, d_model 8-16, 1-2 layers, context ``min_context``-8."""
    heads = rng.choice([1, 2])
    return gpt_config(rng.integer(20, 60), rng.integer(min_context, 8),
                      heads * rng.integer(-(-8 // heads), 16 // heads), heads, rng.integer(1, 2), dropout,
                      rng.coin(), rng.coin())


def classifier(rng: Rng, num_classes: int, dropout: float = 0.0, min_context: int = 4):
    """``(model, config)``: topic 18's ``GPTModel`` with given weights and topic 27's new head of
    ``num_classes`` outputs, holding given values too."""
    config = tiny_config(rng, dropout, min_context)
    model = model_with(topic(T18), rng, config)
    head = topic(T27).replace_head(model, num_classes)
    if not isinstance(head, nn.Linear) or head.bias is None:
        raise Mismatch("topic 27's replace_head did not return an nn.Linear with a bias")
    with torch.no_grad():
        head.weight.copy_(rng.randn(num_classes, config.d_model, scale=config.d_model ** -0.5))
        head.bias.copy_(rng.randn(num_classes, scale=0.5))
    return model, config


class TableModel(nn.Module):
    """A classifier whose answers are known: the scores at a position are row ``ids[b, t]`` of ``table``
    ``(vocab, num_classes)``, through dropout (so that train mode changes them). Each row of the table is a
    shuffled ladder of values one apart, so its argmax is never a near tie."""

    def __init__(self, table: torch.Tensor, dropout: float = 0.5):
        super().__init__()
        self.table = nn.Parameter(table)
        self.drop = nn.Dropout(dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.drop(self.table[ids])


def ladder_table(rng: Rng, vocab: int, num_classes: int) -> torch.Tensor:
    """``(vocab, num_classes)`` scores: each row a random order of ``0, 1, ..., num_classes - 1`` plus noise
    below 0.3, times a random scale in [1, 3)."""
    rows = []
    for _ in range(vocab):
        order = rng.sample(range(num_classes), num_classes)
        rows.append([float(v) for v in order])
    table = torch.tensor(rows) + 0.3 * rng.rand(vocab, num_classes)
    return rng.input(table * (1.0 + 2.0 * rng.rand(vocab, 1)))


class Watched(nn.Module):
    """Wraps a model and notes, for every forward pass, the mode, whether gradients were on and how many rows
    it read. ``train()`` / ``eval()`` reach the wrapped model."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.calls: list[dict] = []

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        self.calls.append({"training": self.model.training, "gradients": torch.is_grad_enabled(),
                           "rows": int(ids.shape[0])})
        return self.model(ids)

    def summary(self) -> dict:
        return {"rows the model read": sum(c["rows"] for c in self.calls),
                "every forward pass in eval mode": all(not c["training"] for c in self.calls),
                "every forward pass without gradients": all(not c["gradients"] for c in self.calls)}


# ----------------------------------------------------------------------------- loaders


class ListLoader:
    """A loader of given ``(inputs, labels, lengths)`` batches; counts how many were served."""

    def __init__(self, batches: list):
        self.batches = list(batches)
        self.served = 0

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        for batch in self.batches:
            self.served += 1
            yield batch


class FailingLoader(ListLoader):
    """Serves its batches, then raises ``RuntimeError`` where ``len()`` promised more."""

    def __len__(self) -> int:
        return len(self.batches) + 2

    def __iter__(self):
        yield from super().__iter__()
        raise RuntimeError("FailingLoader: the data went missing (raised on purpose by the check)")


def gpt_batches(rng: Rng, config, num_classes: int, sizes: list[int]) -> list:
    """Padded ``(inputs, labels, lengths)`` batches for a GPT classifier (pad id ``vocab_size - 1``)."""
    seq, pad_id = config.context_length, config.vocab_size - 1
    out = []
    for size in sizes:
        lengths = random_lengths(rng, size, seq) if size >= 3 else [rng.integer(1, seq) for _ in range(size)]
        out.append((padded_batch(rng, lengths, seq, config.vocab_size, pad_id),
                    rng.randint(0, num_classes, (size,)), torch.tensor(lengths)))
    return out


def known_answers(rng: Rng, table: torch.Tensor, sizes: list[int], seq: int) -> list:
    """Batches for a :class:`TableModel` whose accuracy is known and tells the usual mistakes apart.

    The pad id is the table's last row. In every batch but the last, padded rows are labelled with the right
    answer (never the pad row's), full rows right or wrong at random, at least one row right; the last, shorter
    batch holds full rows labelled wrongly. So reading a pad position loses right answers, and averaging the
    batch accuracies (instead of counting examples) gives another number.
    """
    vocab, num_classes = table.shape
    pad_id = vocab - 1
    answer = table.argmax(dim=1).tolist()
    usable = [i for i in range(vocab - 1) if answer[i] != answer[pad_id]]  # tokens the pad row disagrees with
    others = list(range(vocab - 1))
    out = []
    for k, size in enumerate(sizes):
        last = k == len(sizes) - 1
        lengths = [seq] * size if last else random_lengths(rng, size, seq)
        rows, labels = [], []
        for length in lengths:
            row = [rng.choice(others) for _ in range(length - 1)] + [rng.choice(usable)]
            right = answer[row[-1]]
            if last:
                correct = False
            elif length < seq or not labels:
                correct = True
            else:
                correct = rng.coin()
            wrong = [c for c in range(num_classes) if c != right]
            labels.append(right if correct else rng.choice(wrong))
            rows.append(row + [pad_id] * (seq - length))
        out.append((torch.tensor(rows), torch.tensor(labels), torch.tensor(lengths)))
    return out


def table_with_pad(rng: Rng, vocab: int, num_classes: int) -> torch.Tensor:
    """A ladder table whose first row's answer differs from the pad row's (so some token disagrees with it)."""
    table = ladder_table(rng, vocab, num_classes)
    if int(table[0].argmax()) == int(table[-1].argmax()):
        table[0] = table[0].roll(1)  # another class on top
    return table


# ----------------------------------------------------------------------------- probes


def last_token_probe(t, rng: Rng, batch: int, seq: int, num_classes: int) -> dict:
    """Scores at the last real token, their gradient, and the same with int32 lengths."""
    logits = rng.randn(batch, seq, num_classes).requires_grad_()
    lengths = torch.tensor(random_lengths(rng, batch, seq))
    scores = t.last_token_logits(logits, lengths)
    (scores * rng.randn(batch, num_classes)).sum().backward()
    return {"lengths": lengths, "scores": scores.detach(), "gradient of the logits": logits.grad,
            "int32 lengths": t.last_token_logits(logits.detach(), lengths.to(torch.int32))}


def last_token_errors(t, rng: Rng, batch: int, seq: int) -> list:
    logits = rng.randn(batch, seq, 2)
    good = torch.tensor(random_lengths(rng, batch, seq))
    zero, over = good.clone(), good.clone()
    zero[rng.integer(0, batch - 1)] = 0
    over[rng.integer(0, batch - 1)] = seq + 1
    return [error_case(f"a length of 0 (seq={seq})", t.last_token_logits, logits, zero, names=["0", str(seq)]),
            error_case(f"a length of {seq + 1} (seq={seq})", t.last_token_logits, logits, over,
                       names=[str(seq + 1), str(seq)]),
            error_case(f"{batch + 1} lengths for a batch of {batch}", t.last_token_logits, logits,
                       torch.ones(batch + 1, dtype=torch.long), names=[str(batch), str(batch + 1)]),
            error_case("2-D logits", t.last_token_logits, logits[:, :, 0], good)]


def classify_probe(t, rng: Rng, num_classes: int) -> dict:
    """Scores of a padded batch, and of the same texts with two more padding positions (they must not change)."""
    model, config = classifier(rng, num_classes, min_context=5)
    model.eval()
    seq, pad_id = config.context_length - 2, config.vocab_size - 1
    lengths = random_lengths(rng, rng.integer(3, 5), seq)
    inputs = padded_batch(rng, lengths, seq, config.vocab_size, pad_id)
    longer = torch.cat([inputs, torch.full((len(lengths), 2), pad_id)], dim=1)
    with torch.no_grad():
        scores = t.classify_batch(model, inputs, torch.tensor(lengths))
        more_padding = t.classify_batch(model, longer, torch.tensor(lengths))
    with torch.enable_grad():
        graph = t.classify_batch(model, inputs, torch.tensor(lengths))
    return {"scores": scores, "scores with two more padding positions": more_padding,
            "a graph under torch.no_grad()": getattr(scores, "requires_grad", None),
            "a graph with gradients on": getattr(graph, "requires_grad", None)}


def loss_batch_probe(t, rng: Rng, device, training: bool) -> dict:
    """The loss of one batch, its gradient on the head, and the model's mode and weights afterwards."""
    num_classes = rng.integer(2, 4)
    model, config = classifier(rng, num_classes)
    model.train(training)
    (inputs, labels, lengths), = gpt_batches(rng, config, num_classes, [rng.integer(3, 5)])
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    loss = t.calc_loss_batch(inputs, labels, lengths, model, device)
    if not isinstance(loss, torch.Tensor):
        raise Mismatch(f"calc_loss_batch returned a {type(loss).__name__}, expected a 0-dim tensor")
    shape = list(loss.shape)
    loss.backward()
    return {"device": str(device), "loss": loss.detach(), "loss shape": shape,
            "gradient of the head's weight": model.out_head.weight.grad,
            "gradient of the head's bias": model.out_head.bias.grad,
            "mode afterwards": model.training,
            "weights unchanged": all(torch.equal(before[n], p.detach()) for n, p in model.named_parameters())}


LOADER_CASES = ("all batches", "num_batches < k", "num_batches = k", "num_batches > k", "num_batches=0",
                "an empty loader", "an empty loader, num_batches=3")


def loader_cases(rng: Rng, k: int) -> list[tuple[str, int | None, bool]]:
    """``(label, num_batches, empty)`` for every case of :data:`LOADER_CASES`."""
    return [("all batches", None, False), (f"num_batches < {k}", rng.integer(1, k - 1), False),
            (f"num_batches = {k}", k, False), (f"num_batches > {k}", k + rng.integer(1, 5), False),
            ("num_batches=0", 0, False), ("an empty loader", None, True), ("an empty loader, num_batches=3", 3, True)]


def measure(fn, model, batches: list, rng: Rng, k: int, training: bool) -> list:
    """``fn(loader, model, "cpu", num_batches)`` for every loader case; what it returned and how it ran."""
    out = []
    for label, num_batches, empty in loader_cases(rng, k):
        watched = Watched(model).train(training)
        value = fn(ListLoader([] if empty else batches), watched, "cpu", num_batches)
        out.append({"case": label, "value": value, **watched.summary(),
                    "mode afterwards": [watched.training, model.training]})
    return out


def loss_loader_probe(t, rng: Rng, training: bool) -> list:
    """``calc_loss_loader`` on k batches with a short last one, in every loader case."""
    num_classes = rng.integer(2, 4)
    model, config = classifier(rng, num_classes, dropout=rng.choice([0.2, 0.5]))
    k, size = rng.integer(3, 5), rng.integer(3, 4)
    batches = gpt_batches(rng, config, num_classes, [size] * (k - 1) + [rng.integer(1, size - 1)])
    return measure(t.calc_loss_loader, model, batches, rng, k, training)


def accuracy_probe(t, rng: Rng, training: bool) -> list:
    """``calc_accuracy_loader`` of a :class:`TableModel` (dropout 0.5) on known answers, in every loader case."""
    vocab, num_classes, seq = rng.integer(6, 20), rng.integer(2, 4), rng.integer(3, 8)
    model = TableModel(table_with_pad(rng, vocab, num_classes))
    k, size = rng.integer(3, 5), rng.integer(3, 4)
    batches = known_answers(rng, model.table.detach(), [size] * (k - 1) + [rng.integer(1, size - 1)], seq)
    return measure(t.calc_accuracy_loader, model, batches, rng, k, training)


def failing_probe(t, rng: Rng) -> list:
    """Both loader functions when the loader raises midway: the error comes through, the mode comes back."""
    num_classes = rng.integer(2, 3)
    model, config = classifier(rng, num_classes, dropout=0.1)
    out = []
    for name in ("calc_loss_loader", "calc_accuracy_loader"):
        for training in (True, False):
            model.train(training)
            loader = FailingLoader(gpt_batches(rng, config, num_classes, [3] * rng.integer(0, 1)))
            out.append(error_case(f"{name} with a failing loader, model in {'train' if training else 'eval'} mode",
                                  getattr(t, name), loader, model, "cpu", None))
            out.append({"mode afterwards": model.training})
    return out


def dataloader_probe(t, rng: Rng) -> dict:
    """Both loader functions on topic 28's ``ClassificationDataset`` and ``classification_loader``."""
    t28 = topic(T28)
    num_classes = rng.integer(2, 3)
    model, config = classifier(rng, num_classes)
    vocab, pad_id = config.vocab_size, config.vocab_size - 1
    n = rng.integer(7, 12)
    lengths = [config.context_length, 1] + [rng.integer(1, config.context_length) for _ in range(n - 2)]
    texts = [" ".join(str(rng.integer(0, vocab - 2)) for _ in range(length)) for length in lengths]
    labels = [rng.integer(0, num_classes - 1) for _ in range(n)]
    data = t28.ClassificationDataset(texts, labels, WordTokenizer(), pad_id=pad_id)
    loader = t28.classification_loader(data, batch_size=rng.integer(2, 4))
    table = TableModel(table_with_pad(rng, vocab, num_classes))
    return {"loss (GPT classifier)": t.calc_loss_loader(loader, model, "cpu"),
            "loss, 2 batches": t.calc_loss_loader(loader, model, "cpu", num_batches=2),
            "accuracy (table model)": t.calc_accuracy_loader(loader, table, "cpu")}


# ----------------------------------------------------------------------------- checks


@check("last_token_logits picks each row's scores at lengths - 1 (full rows, one-token rows, padded rows); "
       "gradients reach those positions only; int32 lengths work")
def last_token(t, rng):
    return last_token_probe(t, rng, 4, 5, 3)


@check("last_token_logits: a length of 0 or above seq, the wrong number of lengths, 2-D logits -> ValueError")
def last_token_bad(t, rng):
    return last_token_errors(t, rng, 3, 4)


@check("classify_batch: the scores at the last real token, unchanged by more padding")
def classify(t, rng):
    return classify_probe(t, rng, 2)


@check("calc_loss_batch: cross-entropy of the last real token's scores, with its graph; mode and weights kept")
def loss_batch(t, rng):
    return [loss_batch_probe(t, rng, "cpu", False), loss_batch_probe(t, rng, torch.device("cpu"), True)]


@check("calc_loss_loader: mean batch loss over all / the first num_batches batches, nan for none; eval mode, "
       "no gradients, the mode restored")
def loss_loader(t, rng):
    return loss_loader_probe(t, rng, True)


@check("calc_accuracy_loader on a model with known answers: the fraction of examples right (a short last batch "
       "weighs its examples), nan for none; eval mode, no gradients, the mode restored")
def accuracy(t, rng):
    return accuracy_probe(t, rng, True)
