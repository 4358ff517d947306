"""Planted bugs for topic 28. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "cls_data.py"

M = "    m = min(len(p) for p in positions.values())\n"
RNG = "    rng = random.Random(seed)  # a private generator"
PICK = "        kept += rng.sample(positions[label], m)\n"
ORDER = "    for label in sorted(positions):"
SORT = "    kept.sort()  # the original order: balancing only drops items, it does not reorder them\n"
BALANCED = "    return [texts[i] for i in kept], [labels[i] for i in kept]\n"
SHUFFLE = "    random.Random(seed).shuffle(order)  # a private generator: the same seed, the same order\n"
SIZES = "    n_train, n_val = int(n * fractions[0]), int(n * fractions[1])\n"
CUTS = "    cuts = [order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]]\n"
PARTS = "    return [([texts[i] for i in part], [labels[i] for i in part]) for part in cuts]\n"
CHECK = "    if len(fractions) != 3 or any(f < 0 for f in fractions) or sum(fractions) > 1 + 1e-9:\n"
LONGEST = "        self.max_length = max(len(ids) for ids in encoded) if max_length is None else max_length\n"
CUT = "            ids = ids[: self.max_length]  # keep the start: the first words carry most of an SMS\n"
LENGTH = "            lengths.append(len(ids))\n"
PAD = "            rows.append(ids + [pad_id] * (self.max_length - len(ids)))\n"
ENCODE = "        encoded = [list(tokenizer.encode(text)) for text in texts]  # once: __getitem__ never tokenizes\n"
ITEM = "        return self.ids[i], self.labels[i], self.lengths[i]\n"
LOADER = ("    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, "
          "generator=generator)\n")

MUTANTS = [
    # balance_classes
    (F, BALANCED, "    return list(texts), list(labels)\n", "imbalance left in: nothing dropped"),
    (F, M, "    m = max(len(p) for p in positions.values())\n"
           "    positions = {k: p * m for k, p in positions.items()}\n",
     "balances up to the majority (repeats the minority)"),
    (F, PICK, "        kept += rng.sample(positions[label], min(len(positions[label]), m + 1))\n",
     "one item too many of every larger class"),
    (F, PICK, "        kept += positions[label][:m]\n", "keeps the first m items instead of a seeded draw"),
    (F, PICK, "        kept += rng.sample(positions[label], m) if len(positions[label]) > m else []\n",
     "the rarest class dropped instead of kept whole"),
    (F, RNG, "    rng = random.Random(123)  #", "balance: seed ignored"),
    (F, RNG, "    random.seed(seed)\n    rng = random  #", "balance: reseeds Python's global random"),
    (F, ORDER, "    for label in positions:", "classes drawn in order of first appearance, not sorted"),
    (F, SORT, "", "kept items grouped by class instead of in their original order"),
    (F, "    _same_length(texts, labels, \"balance_classes\")\n", "",
     "balance: texts and labels of different lengths accepted"),
    # split_dataset
    (F, SHUFFLE, "    random.Random(123).shuffle(order)\n", "split: seed ignored"),
    (F, SHUFFLE, "", "split: not shuffled"),
    (F, SHUFFLE, "    random.seed(seed)\n    random.shuffle(order)\n", "split: reseeds Python's global random"),
    (F, SIZES, "    n_train, n_val = round(n * fractions[0]), round(n * fractions[1])\n", "split sizes rounded"),
    (F, SIZES, "    n_train = int(n * fractions[0])\n    n_val = int(n * (fractions[0] + fractions[1])) - n_train\n",
     "val size from the cumulative fraction"),
    (F, CUTS, "    cuts = [order[:n_train], order[n_train:n_train + n_val], "
              "order[n_train + n_val:n_train + n_val + int(n * fractions[2])]]\n",
     "test size from its fraction: pairs lost"),
    (F, CUTS, "    cuts = [order[:n_train], order[n_train - 1:n_train + n_val], order[n_train + n_val:]]\n",
     "train and val overlap"),
    (F, PARTS, "    return [([texts[i] for i in part], [labels[j] for j in sorted(part)]) for part in cuts]\n",
     "labels separated from their texts"),
    (F, PARTS, "    return [([texts[i] for i in part], [labels[i] for i in part]) for part in cuts][::-1]\n",
     "parts in the wrong order"),
    (F, PARTS, "    return [(tuple(texts[i] for i in part), tuple(labels[i] for i in part)) for part in cuts]\n",
     "parts hold tuples, not lists"),
    (F, CHECK, "    if len(fractions) != 3 or any(f < 0 for f in fractions):\n", "fractions above 1 accepted"),
    (F, CHECK, "    if len(fractions) != 3 or any(f < 0 for f in fractions) or sum(fractions) > 1:\n",
     "float slack refused"),
    # ClassificationDataset
    (F, PAD, "            rows.append(ids + [0] * (self.max_length - len(ids)))\n", "pads with 0 instead of pad_id"),
    (F, PAD, "            rows.append(ids + [50256] * (self.max_length - len(ids)))\n",
     "pads with 50256 whatever pad_id says"),
    (F, PAD, "            rows.append([pad_id] * (self.max_length - len(ids)) + ids)\n", "pads on the left"),
    (F, CUT, "            ids = ids[-self.max_length:]\n", "truncation keeps the end instead of the start"),
    (F, LENGTH, "            lengths.append(self.max_length)\n", "length counts the padding"),
    (F, LENGTH, "            lengths.append(len(ids) - 1)\n", "length off by one (an index, not a count)"),
    (F, LENGTH, "            lengths.append(sum(1 for x in ids if x != pad_id))\n",
     "length counts tokens unequal to pad_id: a real pad-id token is lost"),
    (F, LONGEST, "        self.max_length = max(len(ids) for ids in encoded)\n", "max_length ignored"),
    (F, LONGEST, "        self.max_length = 1024 if max_length is None else max_length\n",
     "max_length None means 1024 instead of the longest text"),
    (F, LONGEST, "        self.max_length = max(len(ids) for ids in encoded) + 1 "
                 "if max_length is None else max_length\n",
     "max_length None leaves one padding position after the longest text"),
    (F, ENCODE, ENCODE + "        encoded = [list(tokenizer.encode(text)) for text in texts]\n",
     "encodes every text twice"),
    (F, "        tokenizer = load_gpt2_tokenizer() if tokenizer is None else tokenizer\n",
     "        import tiktoken\n        tokenizer = tiktoken.get_encoding('gpt2') if tokenizer is None else tokenizer\n",
     "tokenizer=None is not topic 02's tokenizer (fetches tiktoken's files)"),
    (F, "        self.labels = torch.tensor(list(labels), dtype=torch.long)  # (n,)\n",
     "        self.labels = torch.tensor(list(labels), dtype=torch.int32)  # (n,)\n", "labels stored as int32"),
    (F, ITEM, "        return self.ids[i], self.labels[i], self.lengths[i].view(1)\n",
     "length of shape (1,), not 0-dim"),
    (F, ITEM, "        return self.ids[i][: self.lengths[i]], self.labels[i], self.lengths[i]\n",
     "items not padded (padding dropped on reading)"),
    (F, "            if not ids:\n", "            if ids is None:\n", "an empty text accepted"),
    (F, "        if max_length is not None and max_length < 1:\n",
     "        if max_length is not None and max_length < 0:\n", "max_length 0 accepted"),
    (F, "        if not texts:\n", "        if texts is None:\n", "no texts: not a clear error"),
    # classification_loader
    (F, LOADER, "    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)\n",
     "loader: seed ignored (global generator)"),
    (F, LOADER, "    return DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=drop_last, "
                "generator=generator)\n", "loader always shuffles"),
    (F, LOADER, "    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=True, "
                "generator=generator)\n", "loader always drops the last batch"),
    (F, LOADER, "    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, "
                "generator=torch.Generator().manual_seed(123))\n", "loader: seed fixed to 123"),
    (F, LOADER, "    torch.manual_seed(seed)\n"
                "    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)\n",
     "loader seeds the global generator once: every new loader's epochs differ from a twin's"),
]
