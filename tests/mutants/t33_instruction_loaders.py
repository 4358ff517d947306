"""Planted bugs for topic 33. Each entry: (file, text in the reference, replacement, what it breaks)."""

MUTANTS = [
    # the dataset
    ("instr_data.py", "self.items.append((prompt + response, len(prompt)))",
     "self.items.append((list(tokenizer.encode(format_input(entry) + format_response(entry))), len(prompt)))",
     "prompt + response tokenized as one string: prompt_length is no token prefix"),
    ("instr_data.py", "self.items.append((prompt + response, len(prompt)))",
     "self.items.append((prompt + response, len(format_input(entry))))",
     "prompt_length counts characters, not tokens"),
    ("instr_data.py", "self.items.append((prompt + response, len(prompt)))",
     "self.items.append((prompt + response, len(prompt) + 1))", "prompt_length one too many"),
    ("instr_data.py", "self.items.append((prompt + response, len(prompt)))",
     "self.items.append((prompt + response, len(response)))", "prompt_length is the response's length"),
    ("instr_data.py", "response = list(tokenizer.encode(format_response(entry)))",
     "response = list(tokenizer.encode(entry['output']))", "the response without its '### Response:' header"),
    ("instr_data.py", "        self.items: list[tuple[list[int], int]] = []\n        for entry in entries:\n",
     "        class Lazy(list):  # looks like the list of items, encodes on every lookup\n"
     "            def __getitem__(self, i):\n"
     "                entry = entries[i]\n"
     "                prompt = list(tokenizer.encode(format_input(entry)))\n"
     "                return prompt + list(tokenizer.encode(format_response(entry))), len(prompt)\n"
     "        self.items = Lazy(entries)\n"
     "        for entry in []:\n",
     "encodes again in every __getitem__ call"),
    ("instr_data.py", "return list(ids), prompt_length  # a copy", "return ids, prompt_length  # a copy",
     "__getitem__ hands out the dataset's own list"),
    ("instr_data.py", "ids, prompt_length = self.items[index]  # a list's own indexing",
     "ids, prompt_length = self.items[index % len(self.items)]  # a list's own indexing",
     "an index past the end wraps around instead of raising IndexError"),
    ("instr_data.py", "ids, prompt_length = self.items[index]  # a list's own indexing",
     "ids, prompt_length = self.items[abs(index)]  # a list's own indexing", "negative indices not from the end"),
    ("instr_data.py", "return len(self.items)", "return len(self.items) - 1", "__len__ one short"),
    ("instr_data.py", "for entry in entries:", "for entry in entries[1:]:", "the first record skipped"),
    ("instr_data.py", "prompt = list(tokenizer.encode(format_input(entry)))",
     "entry.setdefault('input', '')\n            prompt = list(tokenizer.encode(format_input(entry)))",
     "changes the caller's records (adds an input key)"),
    # the loader
    ("instr_data.py", "generator = torch.Generator().manual_seed(seed)", "generator = None",
     "shuffling not seeded: the order comes from the global generator"),
    ("instr_data.py", "generator = torch.Generator().manual_seed(seed)",
     "generator = torch.manual_seed(seed)", "the seed reseeds torch's global generator"),
    ("instr_data.py", "generator = torch.Generator().manual_seed(seed)",
     "generator = torch.Generator().manual_seed(123)", "seed ignored (always 123)"),
    ("instr_data.py", "shuffle: bool = False, seed: int = 123,", "shuffle: bool = False, seed: int = 0,",
     "default seed 0 instead of 123"),
    ("instr_data.py", "shuffle=shuffle, drop_last", "shuffle=False, drop_last", "never shuffles"),
    ("instr_data.py", "shuffle=shuffle, drop_last", "shuffle=True, drop_last", "always shuffles"),
    ("instr_data.py", "drop_last=drop_last, collate_fn", "drop_last=False, collate_fn", "drop_last not passed on"),
    ("instr_data.py", "drop_last=drop_last, collate_fn", "drop_last=True, collate_fn",
     "always drops a smaller last batch"),
    ("instr_data.py", "mask_prompt=mask_prompt)\n", "mask_prompt=False)\n", "mask_prompt not passed on"),
    ("instr_data.py", "max_length=max_length,\n", "max_length=None,\n", "max_length not passed on"),
    ("instr_data.py", "pad_id=pad_id, ignore_index=ignore_index", "pad_id=50256, ignore_index=ignore_index",
     "pad_id not passed on"),
    ("instr_data.py", "pad_id=pad_id, ignore_index=ignore_index", "pad_id=pad_id, ignore_index=-100",
     "ignore_index not passed on"),
    ("instr_data.py", "return DataLoader(dataset, batch_size=batch_size,",
     "return DataLoader(dataset, batch_size=max(batch_size - 1, 1),", "batch_size off by one"),
    ("instr_data.py", "    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, "
                      "collate_fn=collate,\n                      generator=generator)",
     "    loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, "
     "collate_fn=collate, generator=generator)\n    return list(loader)",
     "returns one epoch's batches as a list, not a DataLoader"),
]
