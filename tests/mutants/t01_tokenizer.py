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
]
