"""Hidden checks for topic 03 - Input-target pairs & DataLoader (fresh seed every run)."""

import torch
from torch.utils.data import DataLoader

from checks.t03_dataloader import (
    ENDOFTEXT,
    NumberTokenizer,
    as_text,
    batches,
    compare_shuffled,
    increasing_ids,
    items,
    random_ids,
    shuffle_probe,
    too_short_error,
)
from llmkit.checks import check
from llmkit.data import shakespeare
from llmkit.probing import error_case, raises
from llmkit.values import Mismatch, same

NOT_BEHAVIOUR = {
    "In `dataloader.py` (it imports `load_gpt2_tokenizer` from your topic 02):":
        "where the code goes (what `tokenizer=None` means is its own promise)",
    "The public checks pass a stand-in": "describes the public checks, not the learner's code",
    "Hints: `torch.as_tensor` accepts both a list and a tensor.": "a hint about torch",
    "For `__len__`, test your formula on": "a hint on how to test one's own code",
    "`DataLoader`'s default collate function stacks": "a hint: PyTorch does the batching",
}

# How a stream's length relates to the windows, for n = max_length + 1 + k * stride + extra.
BOUNDARY_CASES = ("one window", "last window ends on the last token", "one token short",
                  "partial window left over", "stride > max_length", "random")


def boundary_case(rng, kind: str) -> tuple[int, int, int]:
    """(n, max_length, stride) of the given kind."""
    length = rng.integer(1, 10)
    stride = rng.integer(2, 12) if kind != "stride > max_length" else length + rng.integer(1, 6)
    k = rng.integer(1, 5)
    if kind == "one window":
        return length + 1, length, stride
    if kind == "last window ends on the last token":
        return length + 1 + k * stride, length, stride
    if kind == "one token short":  # window k's inputs fit, its target would be one short
        return length + k * stride, length, stride
    if kind == "partial window left over":
        return length + 1 + k * stride + rng.integer(1, stride - 1), length, stride
    return rng.integer(length + 1, 80), length, stride


@check("exact windows for random (n, max_length, stride): n = max_length+1, exact fit, "
       "one token short, partial leftovers, stride > max_length",
       promises=["the number of windows $N$ above: starts `0, stride, 2*stride, ...` with `start + max_length < n`",
                 "`(input_ids, target_ids)`, two LongTensors of shape `(max_length,)`",
                 "With `s = index * stride`, they are `token_ids[s : s+max_length]` and "
                 "`token_ids[s+1 : s+max_length+1]`"])
def windows_random(t, rng):
    out = []
    for kind in BOUNDARY_CASES:
        for _ in range(2):
            n, length, stride = boundary_case(rng, kind)
            dataset = t.GPTDataset(random_ids(rng, n), length, stride)
            out.append([len(dataset), items(dataset)])
    return out


@check("len() for many random (n, max_length, stride), long streams included",
       promises=["the number of windows $N$ above"])
def lengths_random(t, rng):
    out = []
    for _ in range(30):
        length, stride = rng.integer(1, 300), rng.integer(1, 400)
        n = length + 1 + rng.integer(0, 3000)
        out.append(len(t.GPTDataset([0] * n, length, stride)))
    stride = rng.integer(1, 20)
    out.append(len(t.GPTDataset(list(range(stride + 10)), 10, stride)))  # exactly two windows
    return out


@check("items in random order; indices past either end raise IndexError",
       promises=["An index outside `[-len(self), len(self))` raises `IndexError`"])
def random_access(t, rng):
    dataset = t.GPTDataset(random_ids(rng, rng.integer(30, 60)), rng.integer(2, 6), rng.integer(1, 7))
    count = len(dataset)
    order = rng.sample(range(count), count)
    return [count, [list(dataset[i]) for i in order],
            raises(dataset.__getitem__, count), raises(dataset.__getitem__, count + rng.integer(1, 9)),
            raises(dataset.__getitem__, -count - rng.integer(1, 9))]


@check("negative indices -1, -len and others in between give the windows counted from the end; "
       "len and -len-1 raise IndexError",
       promises=["A negative index counts from the end, as for a list: `-1` is the last window and "
                 "`-len(self)` the first",
                 "An index outside `[-len(self), len(self))` raises `IndexError`"])
def negative_indices(t, rng):
    out = []
    for _ in range(3):
        length, stride = rng.integer(1, 6), rng.integer(1, 5)
        n = length + 1 + stride * rng.integer(2, 8) + rng.integer(0, stride - 1)  # 3 to 9 windows
        dataset = t.GPTDataset(random_ids(rng, n), length, stride)
        count = len(dataset)
        indices = [-1, -count, -2, -count + 1, -rng.integer(1, count)]
        out.append({"len": count, "items": [list(dataset[i]) for i in indices],
                    "errors": [error_case(f"dataset[{i}] with len(dataset) == {count}", dataset.__getitem__, i)
                               for i in (count, -count - 1)]})
    return out


@check("ValueError with the numbers for short streams, max_length < 1 and stride < 1",
       promises=["Raises `ValueError` when `max_length < 1`, `stride < 1`",
                 "`n < max_length + 1`",
                 'The last message says "text too short" and names `n` and `max_length + 1`',
                 "A text shorter than `max_length + 1` tokens raises `GPTDataset`'s `ValueError`"])
def bad_arguments_random(t, rng):
    length = rng.integer(3, 40)
    ids = list(range(50))
    short = rng.integer(2, length - 1)
    return [too_short_error(t, length, length, rng.integer(1, 5)),  # one token short of one window
            too_short_error(t, short, length, 1),
            raises(t.GPTDataset, [], length, 1),
            raises(t.GPTDataset, ids, 0, 1), raises(t.GPTDataset, ids, -rng.integer(1, 5), 1),
            raises(t.GPTDataset, ids, 4, 0), raises(t.GPTDataset, ids, 4, -rng.integer(1, 5)),
            error_case(f"create_dataloader(<{length} tokens>, max_length={length})", t.create_dataloader,
                       as_text(random_ids(rng, length)), max_length=length, stride=1, tokenizer=NumberTokenizer(),
                       names=["text too short", length, length + 1])]


@check("token_ids that are not 1-D (a 2-D tensor, a nested list, a 0-d tensor) raise ValueError",
       promises=["`token_ids` is not 1-D"])
def not_one_dimensional(t, rng):
    rows, cols = rng.integer(2, 4), rng.integer(6, 12)
    grid = rng.randint(0, 50257, (rows, cols))
    length = rng.integer(1, 4)  # a window fits in the grid's numbers: only the shape is wrong
    return [raises(t.GPTDataset, grid, length, 1), raises(t.GPTDataset, grid.tolist(), length, 1),
            raises(t.GPTDataset, grid[0, 0], 1, 1)]


@check("a LongTensor of ids gives the same LongTensor items as the same ids in a list",
       promises=["`token_ids` is a list of ints or a 1-D tensor of any integer dtype, of length `n`",
                 "two LongTensors of shape `(max_length,)`"])
def tensor_and_list(t, rng):
    ids = rng.randint(0, 50257, (rng.integer(20, 50),))
    length, stride = rng.integer(1, 8), rng.integer(1, 10)
    from_tensor, from_list = t.GPTDataset(ids, length, stride), t.GPTDataset(ids.tolist(), length, stride)
    from_int32 = t.GPTDataset(ids.to(torch.int32), length, stride)
    dtypes = [[str(x.dtype) for x in d[len(d) - 1]] for d in (from_tensor, from_list, from_int32)]
    return [items(from_tensor), items(from_list), items(from_int32), dtypes]


@check("the attributes token_ids (a 1-D LongTensor, from a list, an int64 or an int32 tensor), "
       "max_length and stride",
       promises=["Sets the attributes `token_ids` (a 1-D LongTensor of length `n`, whatever the input), "
                 "`max_length` and `stride`"])
def dataset_attributes(t, rng):
    ids = rng.randint(0, 50257, (rng.integer(10, 30),))
    length, stride = rng.integer(1, 8), rng.integer(1, 10)
    out = []
    for given in (ids.tolist(), ids, ids.to(torch.int32)):
        dataset = t.GPTDataset(given, length, stride)
        stored = dataset.token_ids
        out.append({"token_ids": stored, "dtype": str(getattr(stored, "dtype", type(stored).__name__)),
                    "max_length": dataset.max_length, "stride": dataset.stride})
    return out


@check("create_dataloader(shuffle=False) on a slice of Hamlet with <|endoftext|> inside, "
       "with your topic-02 tokenizer",
       promises=["`tokenizer=None` means `load_gpt2_tokenizer()`",
                 "so every special token the tokenizer has (GPT-2's `<|endoftext|>`, say) becomes one id"])
def loader_gpt2_random(t, rng):
    play = shakespeare("hamlet")
    start = rng.integer(0, len(play) - 2000)
    text = play[start:start + rng.integer(300, 700)]
    cut = rng.integer(0, len(text))
    text = text[:cut] + ENDOFTEXT + text[cut:]
    loader = t.create_dataloader(text, batch_size=rng.integer(1, 4), max_length=rng.integer(4, 24),
                                 stride=rng.integer(1, 30), shuffle=False, drop_last=rng.coin())
    return batches(loader)


@check("create_dataloader tokenizes with allowed_special=\"all\": BPE tokenizers trained with and without "
       "<|endoftext|>, and a stand-in with two special tokens",
       promises=['tokenizes with `tokenizer.encode(text, allowed_special="all")`',
                 "so every special token the tokenizer has (GPT-2's `<|endoftext|>`, say) becomes one id, and a "
                 "tokenizer without special tokens reads their text as ordinary text",
                 "`tokenizer` can be any object with `encode(text, allowed_special=...)` that accepts `\"all\"`"])
def loader_special_tokens(t, rng):
    # resolves to the learner's own topic 02 (or the reference when grading falls back)
    from course.t02_bpe import BPETokenizer, train_bpe

    def words(k):
        return " ".join("".join(rng.choice("abcde") for _ in range(rng.integer(1, 5))) for _ in range(k))

    corpus = words(60) + ENDOFTEXT + words(20)
    size = 256 + rng.integer(5, 25)
    vocab, merges = train_bpe(corpus, size, ())
    without = BPETokenizer(vocab, merges, {})
    vocab, merges = train_bpe(corpus, size + 1, (ENDOFTEXT,))
    with_eot = BPETokenizer(vocab, merges, {ENDOFTEXT: 256 + len(merges)})
    text = words(rng.integer(5, 15)) + ENDOFTEXT + words(rng.integer(5, 15)) + ENDOFTEXT + words(3)
    pad = "<|pad|>"
    numbers = random_ids(rng, 30)
    for special in (ENDOFTEXT, pad, ENDOFTEXT, pad):
        numbers.insert(rng.integer(0, len(numbers)), special)
    two = NumberTokenizer({ENDOFTEXT: 50256, pad: 50257})
    settings = dict(batch_size=rng.integer(1, 3), max_length=rng.integer(2, 6), stride=rng.integer(1, 5),
                    shuffle=False, drop_last=False)
    return [batches(t.create_dataloader(source, tokenizer=tok, **settings))
            for source, tok in ((text, without), (text, with_eot), (" ".join(map(str, numbers)), two))]


@check("create_dataloader returns a DataLoader over a GPTDataset(ids, max_length, stride) with the given "
       "batch_size, drop_last and num_workers",
       promises=["Wraps the ids in `GPTDataset(ids, max_length, stride)` and returns a "
                 "`torch.utils.data.DataLoader` over that dataset with `batch_size`, `shuffle`, `drop_last` and "
                 "`num_workers`"])
def loader_structure(t, rng):
    length, stride = rng.integer(1, 8), rng.integer(1, 8)
    ids = random_ids(rng, length + 1 + stride * rng.integer(0, 10))
    # one worker (not the default 0): more would warn on a one-core grader; never iterated, so the
    # worker process is not even started
    batch_size, workers, drop_last = rng.integer(1, 6), 1, rng.coin()
    loader = t.create_dataloader(as_text(ids), batch_size=batch_size, max_length=length, stride=stride,
                                 shuffle=rng.coin(), drop_last=drop_last, num_workers=workers,
                                 tokenizer=NumberTokenizer(), seed=rng.integer(0, 999))
    dataset = getattr(loader, "dataset", None)
    is_dataset = isinstance(dataset, t.GPTDataset)
    return {"DataLoader": isinstance(loader, DataLoader), "GPTDataset": is_dataset,
            "batch_size": getattr(loader, "batch_size", None), "drop_last": getattr(loader, "drop_last", None),
            "num_workers": getattr(loader, "num_workers", None),
            "dataset": [dataset.token_ids, dataset.max_length, dataset.stride] if is_dataset else None}


@check("drop_last: the short last batch is kept or dropped; fewer windows than a batch",
       promises=["Wraps the ids in `GPTDataset(ids, max_length, stride)` and returns a "
                 "`torch.utils.data.DataLoader` over that dataset with `batch_size`, `shuffle`, `drop_last` and "
                 "`num_workers`",
                 "Each batch is `(inputs, targets)`, both `(batch_size, max_length)`, and the last one may be "
                 "shorter when `drop_last=False`"])
def loader_drop_last(t, rng):
    batch_size, length, stride = rng.integer(2, 5), rng.integer(2, 6), rng.integer(1, 6)
    windows = batch_size * rng.integer(1, 4) + rng.integer(1, batch_size - 1)  # not a multiple
    text = as_text(random_ids(rng, length + 1 + (windows - 1) * stride))
    few = as_text(random_ids(rng, length + 1 + (batch_size - 2) * stride))  # batch_size - 1 windows
    out = []
    for source in (text, few):
        for drop_last in (True, False):
            loader = t.create_dataloader(source, batch_size=batch_size, max_length=length, stride=stride,
                                         shuffle=False, drop_last=drop_last, tokenizer=NumberTokenizer())
            out.append(batches(loader))
    return out


@check("shuffle=True with a seed on random settings: same windows as the reference, "
       "order reproducible for the seed, drop_last on or off", compare=compare_shuffled,
       promises=["With `shuffle=True` and a `seed`, it shuffles with `torch.Generator().manual_seed(seed)`, so two "
                 "loaders with the same seed give the same order"])
def loader_shuffled_random(t, rng):
    length, stride, batch_size = rng.integer(1, 8), rng.integer(1, 10), rng.integer(1, 5)
    return shuffle_probe(t, rng, windows=rng.integer(16, 30), batch_size=batch_size, max_length=length,
                         stride=stride, drop_last=rng.coin())


def compare_global_shuffle(got, expected, *, reveal: bool) -> None:
    """The windows of the reference, an order that the global seed reproduces and changes."""
    same(got["windows"], expected["windows"], reveal=reveal, path="windows seen (sorted)")
    if not got["same global seed, same order"]:
        raise Mismatch("seed=None: after the same torch.manual_seed, two loaders gave different orders - "
                       "with seed=None the shuffle should draw from PyTorch's global random state")
    if not got["other global seed, other order"]:
        raise Mismatch("seed=None: the order did not change with torch.manual_seed - with seed=None the "
                       "shuffle should draw from PyTorch's global random state")


@check("seed=None: the shuffle follows PyTorch's global random state (the same torch.manual_seed gives the "
       "same order, another one another order)", compare=compare_global_shuffle,
       promises=["`seed=None` uses PyTorch's global random state: after the same `torch.manual_seed`, the same "
                 "order"])
def loader_global_seed(t, rng):
    length, stride = rng.integer(1, 6), rng.integer(1, 6)
    windows = rng.integer(16, 24)
    text = as_text(increasing_ids(rng, length + 1 + (windows - 1) * stride))
    first = rng.integer(0, 2**31 - 1)
    other = (first + rng.integer(1, 2**30)) % 2**31
    batch_size = rng.integer(1, 5)
    saved = torch.get_rng_state()
    orders = []  # the window starts (first input ids) in the order served
    try:
        for global_seed in (first, first, other):
            torch.manual_seed(global_seed)
            loader = t.create_dataloader(text, batch_size=batch_size, max_length=length, stride=stride,
                                         shuffle=True, drop_last=False, tokenizer=NumberTokenizer())
            orders.append([start for inputs, _ in loader for start in inputs[:, 0].tolist()])
    finally:
        torch.set_rng_state(saved)
    # a correct shuffle of 16+ windows repeats the first order under another global seed with
    # probability 1/16! ~ 5e-14 per run (the false-failure rate of the last test)
    return {"windows": sorted(orders[0]), "same global seed, same order": orders[0] == orders[1],
            "other global seed, other order": orders[2] != orders[0]}


@check("a seed never reseeds PyTorch's global random state (building the loader and reading its batches)",
       promises=["A `seed` never reseeds PyTorch's global random state"])
def loader_keeps_global_state(t, rng):
    length, stride = rng.integer(1, 6), rng.integer(1, 6)
    text = as_text(random_ids(rng, length + 1 + stride * rng.integer(4, 12)))
    seed = rng.integer(0, 2**31 - 1)
    saved = torch.get_rng_state()
    after = []
    try:
        # From two different global states: a loader that reseeds the global generator leaves the same
        # state behind both times; one that uses (or even draws from) it leaves two different states.
        for global_seed in (rng.integer(0, 2**30), 2**30 + rng.integer(1, 2**30)):
            torch.manual_seed(global_seed)
            for shuffle in (True, False):
                loader = t.create_dataloader(text, batch_size=2, max_length=length, stride=stride, shuffle=shuffle,
                                             tokenizer=NumberTokenizer(), seed=seed)
                for _ in range(2):
                    batches(loader)
            after.append(torch.rand(8))
    finally:
        torch.set_rng_state(saved)
    # 8 float32 draws from two different states coincide with probability ~2**-190: never
    return {"global state the same after both runs (reseeded)": bool(torch.equal(after[0], after[1]))}


def compare_unordered(got, expected, *, reveal: bool) -> None:
    """Batch shapes and the sorted windows: what any correct shuffle must give."""
    same(got["shapes"], expected["shapes"], reveal=reveal, path="batch shapes")
    same(got["windows"], expected["windows"], reveal=reveal, path="windows seen (sorted)")


@check("defaults: batch_size=4, max_length=256, stride=128, shuffle and drop_last on",
       compare=compare_unordered)
def loader_defaults(t, rng):
    text = as_text(random_ids(rng, 257 + 128 * 7 + rng.integer(0, 127)))  # 8 windows: two batches
    shapes, windows = [], []
    for inputs, targets in t.create_dataloader(text, tokenizer=NumberTokenizer(), seed=rng.integer(0, 999)):
        shapes.append([list(inputs.shape), list(targets.shape)])
        windows += [x + y for x, y in zip(inputs.tolist(), targets.tolist())]
    return {"shapes": sorted(shapes), "windows": sorted(windows)}
