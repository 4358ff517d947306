"""Hidden checks for topic 03 - Input-target pairs & DataLoader (fresh seed every run)."""

from checks.t03_dataloader import (
    NumberTokenizer,
    as_text,
    batches,
    compare_shuffled,
    items,
    random_ids,
    shuffle_probe,
    too_short_error,
)
from llmkit.checks import check
from llmkit.data import shakespeare
from llmkit.probing import raises
from llmkit.values import same

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
       "one token short, partial leftovers, stride > max_length")
def windows_random(t, rng):
    out = []
    for kind in BOUNDARY_CASES:
        for _ in range(2):
            n, length, stride = boundary_case(rng, kind)
            dataset = t.GPTDataset(random_ids(rng, n), length, stride)
            out.append([len(dataset), items(dataset)])
    return out


@check("len() for many random (n, max_length, stride), long streams included")
def lengths_random(t, rng):
    out = []
    for _ in range(30):
        length, stride = rng.integer(1, 300), rng.integer(1, 400)
        n = length + 1 + rng.integer(0, 3000)
        out.append(len(t.GPTDataset([0] * n, length, stride)))
    stride = rng.integer(1, 20)
    out.append(len(t.GPTDataset(list(range(stride + 10)), 10, stride)))  # exactly two windows
    return out


@check("items in random order; indices past either end raise IndexError")
def random_access(t, rng):
    dataset = t.GPTDataset(random_ids(rng, rng.integer(30, 60)), rng.integer(2, 6), rng.integer(1, 7))
    count = len(dataset)
    order = rng.sample(range(count), count)
    return [count, [list(dataset[i]) for i in order],
            raises(dataset.__getitem__, count), raises(dataset.__getitem__, count + rng.integer(1, 9)),
            raises(dataset.__getitem__, -count - rng.integer(1, 9))]


@check("ValueError with the numbers for short streams, max_length < 1 and stride < 1")
def bad_arguments_random(t, rng):
    length = rng.integer(2, 40)
    ids = list(range(50))
    return [too_short_error(t, length, length, rng.integer(1, 5)),
            too_short_error(t, rng.integer(1, length - 1), length, 1),
            raises(t.GPTDataset, [], length, 1),
            raises(t.GPTDataset, ids, 0, 1), raises(t.GPTDataset, ids, -rng.integer(1, 5), 1),
            raises(t.GPTDataset, ids, 4, 0), raises(t.GPTDataset, ids, 4, -rng.integer(1, 5)),
            raises(t.create_dataloader, as_text(random_ids(rng, length)), max_length=length, stride=1,
                   tokenizer=NumberTokenizer())]


@check("a LongTensor of ids gives the same LongTensor items as the same ids in a list")
def tensor_and_list(t, rng):
    ids = rng.randint(0, 50257, (rng.integer(20, 50),))
    length, stride = rng.integer(1, 8), rng.integer(1, 10)
    from_tensor, from_list = t.GPTDataset(ids, length, stride), t.GPTDataset(ids.tolist(), length, stride)
    last = from_tensor[len(from_tensor) - 1]
    return [items(from_tensor), items(from_list), [str(last[0].dtype), str(last[1].dtype)]]


@check("create_dataloader(shuffle=False) on a slice of Hamlet with your topic-02 tokenizer")
def loader_gpt2_random(t, rng):
    play = shakespeare("hamlet")
    start = rng.integer(0, len(play) - 2000)
    text = play[start:start + rng.integer(300, 700)]
    if rng.coin():
        cut = rng.integer(0, len(text))
        text = text[:cut] + "<|endoftext|>" + text[cut:]
    loader = t.create_dataloader(text, batch_size=rng.integer(1, 4), max_length=rng.integer(4, 24),
                                 stride=rng.integer(1, 30), shuffle=False, drop_last=rng.coin())
    return batches(loader)


@check("drop_last: the short last batch is kept or dropped; fewer windows than a batch")
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
       "order reproducible for the seed, drop_last on or off", compare=compare_shuffled)
def loader_shuffled_random(t, rng):
    length, stride, batch_size = rng.integer(1, 8), rng.integer(1, 10), rng.integer(1, 5)
    return shuffle_probe(t, rng, windows=rng.integer(16, 30), batch_size=batch_size, max_length=length,
                         stride=stride, drop_last=rng.coin())


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
