"""Public checks for topic 03 - Input-target pairs & DataLoader."""

from llmkit.checks import check
from llmkit.data import sample_text
from llmkit.probing import Rng, error_case, raises
from llmkit.values import Mismatch, same

VOCAB = 50257  # GPT-2's vocabulary size: random ids are drawn below it
ENDOFTEXT = "<|endoftext|>"


class NumberTokenizer:
    """A stand-in tokenizer for checks: the text is integers separated by spaces,
    and those integers are the ids. It lets a check choose the exact id stream
    that ``create_dataloader`` sees, without loading GPT-2's vocabulary.

    ``special_tokens`` (name -> id) are the words it knows as special tokens
    (none by default). ``encode``'s ``allowed_special`` follows topic 02: ``"all"``
    (every special token it has) or a set of its special-token names; a name it
    does not have raises ``ValueError``. Its default allows none (as tiktoken's
    does), and the text of a special token that is not allowed is not a number,
    so it raises ``ValueError`` too.
    """

    def __init__(self, special_tokens=None):
        self.special_tokens = dict(special_tokens or {})

    def encode(self, text, allowed_special=frozenset()):
        allowed = set(self.special_tokens if allowed_special == "all" else allowed_special)
        unknown = set(allowed) - set(self.special_tokens)
        if unknown:
            raise ValueError(f"NumberTokenizer.encode: {sorted(unknown)} are not special tokens of this "
                             f"tokenizer (it has {sorted(self.special_tokens)})")
        ids = []
        for word in text.split():
            if word in allowed:
                ids.append(self.special_tokens[word])
            elif word.lstrip("-").isdigit():
                ids.append(int(word))
            else:
                raise ValueError(f"NumberTokenizer.encode: {word!r} is no number, and not an allowed special "
                                 f"token (allowed_special={allowed_special!r})")
        return ids

    def decode(self, ids):
        return " ".join(str(int(i)) for i in ids)


def random_ids(rng: Rng, n: int) -> list[int]:
    """``n`` random token ids (repeats allowed) as a Python list."""
    return rng.randint(0, VOCAB, (n,)).tolist()


def increasing_ids(rng: Rng, n: int) -> list[int]:
    """``n`` distinct ids in increasing order: a window's first id tells where it starts."""
    return sorted(rng.sample(range(VOCAB), n))


def as_text(ids: list[int]) -> str:
    return " ".join(map(str, ids))


def items(dataset) -> list:
    """Every ``(input_ids, target_ids)`` pair of a dataset, in index order."""
    return [list(dataset[i]) for i in range(len(dataset))]


def batches(loader) -> list:
    """One pass over a loader: ``[inputs, targets]`` per batch."""
    return [[inputs, targets] for inputs, targets in loader]


def too_short_error(t, n: int, max_length: int, stride: int) -> dict:
    """The error report of ``GPTDataset`` on a stream of ``n`` tokens: a ``ValueError``
    whose message says "text too short" and names ``n`` and ``max_length + 1`` (the
    numbers a learner needs to fix the call)."""
    return error_case(f"GPTDataset(<{n} ids>, max_length={max_length}, stride={stride})",
                      t.GPTDataset, list(range(n)), max_length, stride,
                      names=["text too short", n, max_length + 1])


def shuffle_probe(t, rng: Rng, windows: int, batch_size: int, max_length: int, stride: int,
                  drop_last: bool) -> dict:
    """Two loaders with the same seed, two epochs each, on a stream of increasing ids
    that holds exactly ``windows`` windows.

    Returns the order-independent content (sorted windows, batch shapes) and the
    order of window starts (first input id of each window) for both loaders.
    ``complete`` says whether every window is served whatever the order (when a
    short last batch is dropped, which windows are lost depends on the shuffle).
    """
    n = max_length + 1 + (windows - 1) * stride + rng.integer(0, stride - 1)
    text = as_text(increasing_ids(rng, n))
    seed = rng.integer(0, 2**31 - 1)
    made = [t.create_dataloader(text, batch_size=batch_size, max_length=max_length, stride=stride,
                                shuffle=True, drop_last=drop_last, tokenizer=NumberTokenizer(),
                                seed=seed)
            for _ in range(2)]
    orders, shapes, seen = [], [], []
    for loader in made:
        epochs = []
        for _ in range(2):
            epoch = []
            for inputs, targets in loader:
                shapes.append([list(inputs.shape), list(targets.shape)])
                epoch += inputs[:, 0].tolist()
                seen += [x + y for x, y in zip(inputs.tolist(), targets.tolist())]
            epochs.append(epoch)
        orders.append(epochs)
    complete = not drop_last or windows % batch_size == 0
    return {"complete": complete, "windows": sorted(seen) if complete else len(seen),
            "shapes": shapes, "order": orders[0], "again": orders[1]}


def compare_shuffled(got, expected, *, reveal: bool) -> None:
    """Same batch shapes and windows as the reference (in any order), each window
    at most once an epoch, the same order for the same seed, and an order that is
    actually shuffled."""
    same(got["shapes"], expected["shapes"], reveal=reveal, path="batch shapes")
    path = "windows seen (sorted)" if expected["complete"] else "number of windows seen"
    same(got["windows"], expected["windows"], reveal=reveal, path=path)
    if any(len(set(epoch)) != len(epoch) for epoch in got["order"]):
        raise Mismatch("a window was served twice in one epoch: each window should come once")
    if got["order"] != got["again"]:
        raise Mismatch("two loaders built with the same seed gave different orders: "
                       "shuffle with torch.Generator().manual_seed(seed)")
    # A correct shuffle of m windows comes out sorted with probability 1/m!. The probes serve
    # m >= 15 windows an epoch (16 to 32 windows, fewer than batch_size <= 5 of them dropped),
    # so a correct loader fails this with probability <= 2 epochs / 15! ~ 2e-12 per run.
    if any(epoch == sorted(epoch) for epoch in got["order"]):
        raise Mismatch("shuffle=True, but the windows came out in their original order")


@check("each target is its input shifted left by one token (stride 1 and stride = max_length)")
def pairs_shifted(t, rng):
    ids = random_ids(rng, rng.integer(12, 20))
    return [items(t.GPTDataset(ids, 4, 1)), items(t.GPTDataset(ids, 4, 4))]


@check("len() counts the windows whose target fits: n = max_length+1 gives 1, partial windows dropped")
def number_of_windows(t, rng):
    cases = [(9, 8, 1), (9, 8, 5), (10, 4, 5), (11, 4, 5), (12, 4, 5), (20, 4, 4), (21, 4, 4)]
    cases.append((rng.integer(30, 60), rng.integer(2, 8), rng.integer(1, 10)))
    return [len(t.GPTDataset(random_ids(rng, n), length, stride)) for n, length, stride in cases]


@check("stride > max_length: windows skip the tokens in between")
def stride_larger_than_window(t, rng):
    ids = random_ids(rng, rng.integer(20, 30))
    return items(t.GPTDataset(ids, 3, rng.integer(5, 7)))


@check("fewer than max_length+1 tokens, max_length < 1 or stride < 1 raise ValueError")
def bad_arguments(t, rng):
    length = rng.integer(5, 9)
    return [too_short_error(t, length, length, 2), too_short_error(t, 2, length, 1),
            raises(t.GPTDataset, list(range(10)), 0, 1), raises(t.GPTDataset, list(range(10)), 3, 0)]


@check("negative indices count from the end; an index outside [-len, len) raises IndexError")
def index_out_of_range(t, rng):
    dataset = t.GPTDataset(random_ids(rng, 20), 4, 3)
    count = len(dataset)
    return [count, list(dataset[-1]), list(dataset[-count]),
            raises(dataset.__getitem__, count), raises(dataset.__getitem__, count + 5),
            raises(dataset.__getitem__, -count - 1)]


@check("a 1-D LongTensor of ids works like a list; items are LongTensors of shape (max_length,)")
def tensor_input(t, rng):
    ids = rng.randint(0, VOCAB, (rng.integer(15, 25),))
    dataset = t.GPTDataset(ids, 5, 3)
    first = dataset[0]
    return [items(dataset), [str(first[0].dtype), str(first[1].dtype)]]


@check("create_dataloader(shuffle=False): batches in order, <|endoftext|> one id; drop_last keeps or drops "
       "the short batch")
def loader_in_order(t, rng):
    words = [str(i) for i in random_ids(rng, 40)]
    for _ in range(2):  # one or two separators, at random places
        words[rng.integer(0, 39)] = ENDOFTEXT
    text = " ".join(words)
    out = []
    for drop_last in (True, False):
        loader = t.create_dataloader(text, batch_size=3, max_length=6, stride=4, shuffle=False,
                                     drop_last=drop_last, tokenizer=NumberTokenizer({ENDOFTEXT: VOCAB - 1}))
        out.append(batches(loader))
    return out


@check("create_dataloader with no tokenizer uses topic 02's GPT-2 tokenizer (<|endoftext|> allowed)")
def loader_gpt2(t, rng):
    text = sample_text(300) + "<|endoftext|>" + sample_text(rng.integer(100, 200))
    loader = t.create_dataloader(text, batch_size=2, max_length=16, stride=12, shuffle=False,
                                 drop_last=False)
    return batches(loader)


@check("shuffle=True with a seed: the same windows, in a shuffled order that the seed reproduces",
       compare=compare_shuffled)
def loader_shuffled(t, rng):
    return shuffle_probe(t, rng, windows=4 * rng.integer(6, 8), batch_size=4, max_length=3, stride=2,
                         drop_last=True)
