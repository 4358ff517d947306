"""Planted bugs for topic 01. Each entry: (file, text in the reference, replacement, what it breaks)."""

MUTANTS = [
    ("tokenizer.py", 'pattern = rf"--|[{punct}]|(?:(?!--)[^\\s{punct}])+"',
     'pattern = rf"[{punct}]|[^\\s{punct}]+"', "'--' not split off"),
    ("tokenizer.py", 'pattern = rf"--|[{punct}]|(?:(?!--)[^\\s{punct}])+"',
     'pattern = r"\\S+"', "splits on whitespace only"),
    ("tokenizer.py", "words = sorted(set(tokens) - set(SPECIAL_TOKENS))",
     "words = list(dict.fromkeys(tokens))", "vocabulary not sorted"),
    ("tokenizer.py", "[*words, *SPECIAL_TOKENS]", "[*SPECIAL_TOKENS, *words]", "specials first"),
    ("tokenizer.py", "words = sorted(set(tokens) - set(SPECIAL_TOKENS))",
     "words = sorted(set(tokens))", "special tokens counted twice"),
    ("tokenizer.py", "self.vocab.get(token, unknown)", "self.vocab.get(token, 0)", "unknown -> id 0"),
    ("tokenizer.py", '(len(token) == 1 and token in PUNCTUATION) else " "',
     'token in ",." else " "', "space before some punctuation"),
    ("tokenizer.py", "token = self.inverse[int(index)]",
     "token = self.inverse.get(int(index), UNKNOWN)", "unknown ids silently decoded"),
    # caught on every run only by the fixed cases added with the README promises
    ("tokenizer.py", "punct = re.escape(PUNCTUATION)", 'punct = re.escape(PUNCTUATION.replace("_", ""))',
     "'_' treated as a word character (pretokenize_random's fixed texts)"),
    ("tokenizer.py", "words = sorted(set(tokens) - set(SPECIAL_TOKENS))",
     "words = sorted(set(tokens) - {UNKNOWN})", "<|endoftext|> counted twice (vocab_random: both specials)"),
    ("tokenizer.py", '(len(token) == 1 and token in PUNCTUATION) else " "',
     '(token in PUNCTUATION or token == "--") else " "', "no space before '--' (decode_random's fixed ids)"),
    ("tokenizer.py", "token = self.inverse[int(index)]",
     "token = self.inverse[int(index) % len(self.inverse)] if int(index) < 0 else self.inverse[int(index)]",
     "negative ids wrap around like list indices (decode_unknown_id)"),
]
