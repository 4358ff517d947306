"""Hidden checks for topic 33 - instruction data loaders (fresh seed every run).

The dataset is judged with :class:`checks.t33_instruction_loaders.GluedTokenizer`,
for which encoding prompt + response in one go gives other ids than two encodes
(and a prompt_length that is no prefix), and with GPT-2's real tokenizer on the
kit's instruction set. The loaders are judged on ready-made items: without
shuffling batch for batch against the reference, every collate option on its own
in every run; with shuffling by properties of the order (see ``compare_shuffled``).
"""

from __future__ import annotations

from checks.t32_instruction_batching import pair_report
from checks.t33_instruction_loaders import (
    GluedTokenizer,
    Items,
    batches_probe,
    compare_shuffled,
    dataset_report,
    item_report,
    random_entries,
    random_items,
    shuffle_probe,
)
from llmkit.checks import check
from llmkit.data import tiktoken_gpt2
from llmkit.finetune_data import instruction_set
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `instr_data.py` (it imports `format_input` and `format_response` from your topic 31 and `collate_batch` "
    "from your topic 32):": "where the code goes",
    "Hint: `functools.partial` fixes": "a hint about Python",
}

DATASET_PROMISES = [
    "tokenizes every entry once, in `__init__`:",
    "`prompt = tokenizer.encode(format_input(entry))` and `response = tokenizer.encode(format_response(entry))`, "
    "two separate encodes;",
    "item `i` is `(prompt + response, len(prompt))`, so the prompt's tokens are exactly the first `prompt_length` "
    "ids.",
    "`entries` is not changed",
    "returns the number of entries",
    "returns `(ids, prompt_length)`: `ids` a list of ints, `prompt_length` an int.",
    "Reading items never calls the tokenizer"]


@check("InstructionDataset on random records (with input, no input key, empty input, empty output) and a "
       "tokenizer whose tokens cross the prompt/response boundary: exact items, no encode while reading, "
       "entries unchanged; an empty list of records",
       promises=DATASET_PROMISES + ["`entries` is a list of Alpaca records (topic 31);"])
def dataset_random(t, rng):
    tokenizer = GluedTokenizer()
    return {"records": dataset_report(t, random_entries(rng, rng.integer(5, 9)), tokenizer),
            "no records": dataset_report(t, [], GluedTokenizer())}


@check("InstructionDataset with GPT-2's tokenizer (tiktoken) on records of the kit's instruction set",
       promises=DATASET_PROMISES + ["`tokenizer` is anything with `encode(text) -> list[int]`"])
def dataset_gpt2(t, rng):
    entries = instruction_set(seed=rng.integer(0, 10**6), size=rng.integer(4, 8))
    return dataset_report(t, entries, CountingTokenizer(tiktoken_gpt2()))


class CountingTokenizer:
    """Wraps a tokenizer and counts its ``encode`` calls."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def encode(self, text):
        self.calls += 1
        return self.inner.encode(text)

    def decode(self, ids):
        return self.inner.decode(ids)


@check("InstructionDataset indexing: -1, -len and others count from the end; len and -len-1 raise IndexError; "
       "every call returns a new ids list (appending to one changes nothing)",
       promises=["A negative index counts from the end, as for a list;",
                 "an index outside `[-len(self), len(self))` raises `IndexError`.",
                 "`ids` is a new list on every call, so a caller that changes it does not change the dataset."])
def dataset_indexing(t, rng):
    dataset = t.InstructionDataset(random_entries(rng, rng.integer(4, 7)), GluedTokenizer())
    count = len(dataset)
    picks = [-1, -count, -rng.integer(2, count - 1), rng.integer(0, count - 1)]
    out = {"len": count, "items": [item_report(dataset[i]) for i in picks]}
    index = rng.integer(0, count - 1)
    ids, _ = dataset[index]
    ids.append(rng.integer(1000, 2000))
    ids[0] = -1
    out["item after its returned list was changed"] = item_report(dataset[index])
    out["errors"] = [error_case(f"dataset[{i}] with len(dataset) == {count}", dataset.__getitem__, i)
                     for i in (count, -count - 1, count + rng.integer(1, 9))]
    return out


LOADER_PROMISES = [
    "`dataset` is any dataset of `(ids, prompt_length)` items, such as an `InstructionDataset`.",
    "Returns a `torch.utils.data.DataLoader`",
    "each batch of `batch_size` items (the last one smaller, unless `drop_last`) is `collate_batch(items, "
    "pad_id=pad_id, ignore_index=ignore_index, max_length=max_length, mask_prompt=mask_prompt)` (topic 32), "
    "so the loader yields `(inputs, targets)` pairs."]


@check("instruction_loader without shuffling, each option on its own in every run: the defaults, batch_size 1, "
       "a random pad_id and ignore_index, max_length below the longest item, mask_prompt, drop_last with a "
       "smaller last batch - batch for batch",
       promises=LOADER_PROMISES + ["Without `shuffle` the items come in the dataset's order.",
                                   "The defaults pass GPT-2's end-of-text `50256`, `-100`, no `max_length` and no "
                                   "prompt masking to the collate."])
def loader_options(t, rng):
    size = rng.integer(2, 4)
    count = size * rng.integer(2, 3) + rng.integer(1, size - 1)  # a smaller last batch
    items = random_items(rng, count)
    longest = max(len(ids) for ids, _ in items)
    cases = {"defaults": dict(batch_size=size), "batch_size=1": dict(batch_size=1),
             "pad_id and ignore_index": dict(batch_size=size, pad_id=rng.integer(1000, 5000),
                                             ignore_index=-rng.integer(1, 99)),
             "max_length": dict(batch_size=size, max_length=rng.integer(2, longest - 1)),
             "mask_prompt": dict(batch_size=size, mask_prompt=True),
             "drop_last": dict(batch_size=size, drop_last=True),
             "everything": dict(batch_size=size, pad_id=rng.integer(1000, 5000), ignore_index=-rng.integer(1, 99),
                                max_length=rng.integer(2, longest), mask_prompt=True, drop_last=rng.coin())}
    out = {}
    for name, options in cases.items():
        dataset = Items(items)
        batch_size = options.pop("batch_size")
        out[name] = batches_probe(t.instruction_loader(dataset, batch_size, **options), dataset)
    return out


@check("instruction_loader with shuffle=True and random options: every epoch a permutation in batches of "
       "batch_size, rows right for their items, the same order for the same seed after the global generator "
       "moved, a new order each epoch, another for another seed, default seed 123, global generator untouched",
       compare=compare_shuffled,
       promises=LOADER_PROMISES + [
           "With `shuffle` each epoch is a new order drawn from a `torch.Generator` seeded with `seed` once, when "
           "the loader is built:",
           "two loaders built with the same arguments give the same batches, epoch after epoch, and torch's global "
           "random generator is neither used nor changed.", "The default `seed` is `123`"])
def loader_shuffled_random(t, rng):
    size = rng.integer(2, 4)
    count = rng.integer(10, 16)
    if count % size == 0:
        count += 1
    options = {"pad_id": rng.integer(1000, 5000), "ignore_index": -rng.integer(1, 99), "mask_prompt": rng.coin()}
    if rng.coin():
        options["max_length"] = rng.integer(4, 10)
    return shuffle_probe(t, rng, count, size, **options)


@check("InstructionDataset and instruction_loader together on random records, with mask_prompt and a random "
       "pad_id: the batches are the dataset's items collated",
       promises=LOADER_PROMISES + DATASET_PROMISES[:3])
def end_to_end(t, rng):
    entries = random_entries(rng, rng.integer(5, 8))
    dataset = t.InstructionDataset(entries, GluedTokenizer())
    loader = t.instruction_loader(dataset, rng.integer(2, 3), mask_prompt=True, pad_id=rng.integer(1000, 5000))
    return {"batches": [pair_report(batch, "the loader's batch") for batch in loader], "len": len(loader)}
