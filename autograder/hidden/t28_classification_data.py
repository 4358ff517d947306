"""Hidden checks for topic 28 - classification data loaders (fresh seed every run)."""

import importlib

from checks.t28_classification_data import (
    SMS,
    SMS_LABELS,
    IdTokenizer,
    balance_probe,
    dataset_probe,
    id_text,
    items_dataset,
    labelled,
    loader_probe,
    split_probe,
)
from llmkit.checks import check
from llmkit.data import tiktoken_gpt2
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `cls_data.py` (it imports": "where the code goes and what it builds on",
    "A tokenizer is anything with": "what a tokenizer may be (the checks use several)",
}


@check("balance_classes: two classes (minority of 1-8, a random majority), three classes with gaps between the "
       "labels, a minority of one item, balanced data, one class, no data; the default seed and a fresh one; the "
       "inputs and Python's global random left alone; texts and labels of different lengths raise ValueError",
       promises=["returns `(texts, labels)`, two new lists in which every label occurs as often as the rarest one, "
                 "`m` times.",
                 "With `rng = random.Random(seed)`, for each label in sorted order, `rng.sample(positions, m)` picks "
                 "which of that label's positions to keep (`positions`: its indices, ascending).",
                 "The kept pairs keep their original order.",
                 "A class of `m` items is kept whole, so balanced data comes back unchanged;",
                 "no data gives `([], [])`",
                 "`texts` and `labels` of different lengths raise `ValueError` naming both lengths.",
                 "Neither the inputs nor Python's global `random` state change"])
def balance_random(t, rng):
    seed = rng.seed_except(123)
    minority = rng.integer(1, 8)
    # the majority is label 0 or label 1 at random: "keep label 0's size" must fail either way
    sizes = {0: minority + rng.integer(1, 12), 1: minority} if rng.coin() else {0: minority, 1: minority + 5}
    two = labelled(rng, sizes)
    a, b, c = sorted(rng.sample(range(1, 20), 3))
    three = labelled(rng, {c: rng.integer(8, 12), a: rng.integer(8, 12), b: 3})
    first = three[1].index(c)  # the largest label comes first: classes must be drawn in sorted order, not as met
    three[1][0], three[1][first] = three[1][first], three[1][0]
    lone = labelled(rng, {0: rng.integer(3, 10), 1: 1})
    even = rng.integer(2, 6)
    balanced = labelled(rng, {0: even, 1: even, 2: even})
    single = labelled(rng, {rng.integer(0, 3): rng.integer(1, 6)})
    texts, labels = two
    return [balance_probe(t, *two), balance_probe(t, *two, seed), balance_probe(t, *three, seed=seed),
            balance_probe(t, *lone, seed), balance_probe(t, *balanced, seed), balance_probe(t, *single, seed),
            balance_probe(t, [], []),
            error_case(f"balance_classes({len(texts)} texts, {len(labels) - 1} labels)", t.balance_classes, texts,
                       labels[:-1], names=[len(texts), len(labels) - 1])]


@check("split_dataset on 0-80 labelled texts: default fractions and seed, a fresh seed, random fractions, fractions "
       "summing below 1, sizes where int() and round() differ, float slack; pairs kept together; inputs and the "
       "global random left alone; bad fractions and mismatched lengths raise ValueError",
       promises=["returns `[(train_texts, train_labels), (val_texts, val_labels), (test_texts, test_labels)]`, each "
                 "a tuple of two new lists.",
                 "It shuffles the positions `order = list(range(n))` with `random.Random(seed).shuffle(order)`, so "
                 "the same seed gives the same split and every text keeps its label.",
                 "With `n = len(texts)`: the first `int(n * fractions[0])` positions of `order` train, the next "
                 "`int(n * fractions[1])` validate and the rest test, so no pair is lost or repeated.",
                 "`fractions` must be three numbers `>= 0` whose sum is at most 1 up to float rounding, else "
                 "`ValueError` naming `fractions`;",
                 "`texts` and `labels` of different lengths raise `ValueError` naming both lengths.",
                 "Neither the inputs nor Python's global `random` state change"])
def split_random(t, rng):
    seed = rng.seed_except(123)

    def data(n):
        return labelled(rng, {0: n // 2, 1: n - n // 2})

    n = rng.integer(5, 80)
    texts, labels = data(n)
    a = rng.integer(0, 20) / 20
    b = rng.integer(0, 20 - int(a * 20)) / 20
    out = [split_probe(t, texts, labels), split_probe(t, texts, labels, seed=seed),
           split_probe(t, texts, labels, (a, b, round(1 - a - b, 2)), seed),
           split_probe(t, texts, labels, (0.5, 0.2, 0.1), seed=seed),      # sums to 0.8: test gets the rest
           split_probe(t, *data(7), seed=seed),                             # 4.9 -> 4, 0.7 -> 0, test 3
           split_probe(t, *data(19), (0.6, 0.25, 0.15), seed),              # 11.4 -> 11, 4.75 -> 4, test 4
           split_probe(t, *data(rng.integer(5, 30)), (0.34, 0.56, 0.1), seed),  # float sum 1.0000000000000002
           split_probe(t, [], []), split_probe(t, *data(1), seed=seed)]
    bad = [(round(0.5 + rng.integer(1, 5) / 10, 1), -0.1, 0.1), (0.5, round(0.5 + rng.integer(1, 5) / 10, 1), 0.0),
           (0.5, 0.5)]
    out += [error_case(f"fractions={f}", t.split_dataset, texts, labels, f, names=["fractions"]) for f in bad]
    out.append(error_case(f"split_dataset({n} texts, {n + 1} labels)", t.split_dataset, texts, labels + [0],
                          names=[n, n + 1]))
    return out


def random_ids_texts(rng, count: int, longest: int, vocab: int) -> list[list[int]]:
    """``count`` id lists of 1..``longest`` ids below ``vocab``; one of exactly ``longest`` ids and one of 1."""
    lists = [rng.randint(0, vocab, (rng.integer(1, longest),)).tolist() for _ in range(count - 2)]
    lists += [rng.randint(0, vocab, (longest,)).tolist(), rng.randint(0, vocab, (1,)).tolist()]
    return rng.sample(lists, len(lists))


@check("ClassificationDataset with the stand-in tokenizer (compact ids): max_length None, below the longest text "
       "(the start kept) and above it; a random pad_id that is not 0, and one that real tokens use; every item with "
       "its dtypes, each text encoded once, never again when reading",
       promises=["encodes each text exactly once, with `tokenizer.encode(text)`",
                 "It keeps each text's first `max_length` tokens and fills the rest of the row with `pad_id`.",
                 "`max_length=None` means the length of the longest encoded text;",
                 "the attribute `max_length` holds the length used.",
                 "the number of texts",
                 "`(ids, label, length)`, all `torch.long`: `ids` of shape `(max_length,)`, `label` and `length` "
                 "0-dim.",
                 "`length` is the number of real tokens, `min(len(encoded), max_length)`, so it counts a real token "
                 "even when its id equals `pad_id`.",
                 "Reading an item never calls the tokenizer"])
def dataset_random(t, rng):
    vocab, longest = rng.integer(10, 40), rng.integer(4, 12)
    lists = random_ids_texts(rng, rng.integer(4, 9), longest, vocab)
    texts = [id_text(ids) for ids in lists]
    labels = [rng.integer(0, 2) for _ in texts]
    pad = rng.integer(vocab, vocab + 50)                # outside the vocabulary, never 0
    used = rng.choice(lists[0])                         # an id that a real token has: length must not count it out
    lists[0] = lists[0] + [used] * 2
    reused_texts = [id_text(ids) for ids in lists]
    return [dataset_probe(t, texts, labels, IdTokenizer(), pad_id=pad),
            dataset_probe(t, texts, labels, IdTokenizer(), max_length=rng.integer(1, longest - 1), pad_id=pad),
            dataset_probe(t, texts, labels, IdTokenizer(), max_length=longest + rng.integer(1, 4), pad_id=pad),
            dataset_probe(t, texts, labels, IdTokenizer(), max_length=longest, pad_id=pad),
            dataset_probe(t, reused_texts, labels, IdTokenizer(), pad_id=used)]


@check("ClassificationDataset defaults: tokenizer=None is topic 02's GPT-2 tokenizer and pad_id is 50256 (three SMS "
       "messages), matching tiktoken's GPT-2 encoding given explicitly",
       promises=["(`None`: topic 02's `load_gpt2_tokenizer()`)"])
def dataset_defaults(t, rng):
    picked = rng.sample(range(len(SMS)), 3)
    texts, labels = [SMS[i] for i in picked], [SMS_LABELS[i] for i in picked]
    t02 = importlib.import_module("course.t02_bpe")  # resolved like the learner's own import
    t02.load_gpt2_tokenizer()                        # loaded (and cached) before the probe reads the items
    default = t.ClassificationDataset(texts, labels)
    explicit = dataset_probe(t, texts, labels, tiktoken_gpt2())
    return {"default items": [list(default[i]) for i in range(len(default))], "default max_length":
            default.max_length, "tiktoken": {k: v for k, v in explicit.items() if not k.startswith("encode")}}


@check("ClassificationDataset errors: texts and labels of different lengths, no texts (with and without "
       "max_length), max_length 0 and negative, a text that encodes to no tokens at a random index (ValueError "
       "naming the values); a good dataset beside them",
       promises=["`ValueError` for `texts` and `labels` of different lengths (naming both lengths);",
                 "for no texts;", "for `max_length < 1` (naming it);",
                 "for a text that encodes to no tokens (naming its index)"])
def dataset_errors(t, rng):
    n = rng.integer(3, 8)
    texts = [id_text(rng.randint(0, 20, (rng.integer(1, 5),)).tolist()) for _ in range(n)]
    labels = [rng.integer(0, 1) for _ in range(n)]
    empty_at = rng.integer(1, n - 1)
    with_empty = texts[:empty_at] + [rng.choice(["", "  "])] + texts[empty_at + 1:]
    bad_length = -rng.integer(1, 3)
    make = t.ClassificationDataset
    return [dataset_probe(t, texts, labels, IdTokenizer(), pad_id=rng.integer(21, 40)),
            error_case(f"{n} texts, {n - 1} labels", make, texts, labels[:-1], IdTokenizer(), names=[n, n - 1]),
            error_case("no texts", make, [], [], IdTokenizer()),
            error_case("no texts, max_length=5", make, [], [], IdTokenizer(), 5),
            error_case("max_length=0", make, texts, labels, IdTokenizer(), 0, names=[0]),
            error_case(f"max_length={bad_length}", make, texts, labels, IdTokenizer(), bad_length,
                       names=[bad_length]),
            error_case(f"text {empty_at} encodes to no tokens", make, with_empty, labels, IdTokenizer(),
                       names=[empty_at])]


@check("classification_loader on 5-30 items: in order, shuffled with a fresh seed and with the default seed (two "
       "epochs each, and a twin loader made alike), drop_last with a short last batch, a batch larger than the data",
       promises=["`DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, "
                 "generator=torch.Generator().manual_seed(seed))`, yielding `(inputs (batch, max_length), labels "
                 "(batch,), lengths (batch,))`.",
                 "Without shuffling the batches come in dataset order.",
                 "With shuffling, two loaders made with the same seed give the same batches, epoch after epoch, and "
                 "each epoch has a new order.",
                 "`drop_last=True` drops a last batch smaller than `batch_size`"])
def loader_random(t, rng):
    batch = rng.integer(2, 5)
    n = batch * rng.integer(2, 5) + rng.integer(1, batch - 1)    # a short last batch
    dataset = items_dataset(rng, n, rng.integer(3, 8))
    seed = rng.seed_except(123)
    return [loader_probe(t, dataset, batch), loader_probe(t, dataset, batch, True, seed),
            loader_probe(t, dataset, batch, shuffle=True),
            loader_probe(t, dataset, batch, shuffle=False, drop_last=True),
            loader_probe(t, dataset, batch, shuffle=True, seed=seed, drop_last=True),
            loader_probe(t, dataset, n + rng.integer(1, 5), shuffle=True, seed=seed)]
