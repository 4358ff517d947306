"""Topic 01 - a word-level tokenizer written from scratch.

Text -> pieces (words and punctuation) -> integer ids, and back. This is the
simplest possible tokenizer; topic 02 replaces it with byte-level BPE, which
never needs an "unknown" token.
"""

from __future__ import annotations

import re
from typing import Iterable

ENDOFTEXT = "<|endoftext|>"  # separates independent documents
UNKNOWN = "<|unk|>"  # stands for any word missing from the vocabulary
SPECIAL_TOKENS = (ENDOFTEXT, UNKNOWN)

# Punctuation characters that always become tokens of their own. The double
# dash "--" is a token too (an em dash in old texts).
PUNCTUATION = ",.:;?_!\"()'"


def pretokenize(text: str) -> list[str]:
    """Split ``text`` into words and punctuation, dropping all whitespace.

    Rules:
    * each character of ``PUNCTUATION`` is a token of its own,
    * ``"--"`` is a token of its own,
    * any other run of non-whitespace characters is one token (so ``"well-known"``
      stays whole),
    * whitespace (spaces, tabs, newlines, ...) only separates tokens.

    >>> pretokenize('Hello, world--is this-- "it"?')
    ['Hello', ',', 'world', '--', 'is', 'this', '--', '"', 'it', '"', '?']
    """
    ### BEGIN SOLUTION
    punct = re.escape(PUNCTUATION)
    # A word is a run of characters that are neither whitespace nor punctuation,
    # and that stops right before a "--".
    pattern = rf"--|[{punct}]|(?:(?!--)[^\s{punct}])+"
    return re.findall(pattern, text)
    ### END SOLUTION


def build_vocab(tokens: Iterable[str]) -> dict[str, int]:
    """Map every distinct token to an id.

    The distinct tokens are sorted (Python's default string order) and numbered
    from 0; then ``ENDOFTEXT`` and ``UNKNOWN`` are appended, in that order, with
    the next two ids. A special token that already occurs in ``tokens`` is not
    counted twice: it still gets its place at the end.

    >>> build_vocab(["b", "a", "b"])
    {'a': 0, 'b': 1, '<|endoftext|>': 2, '<|unk|>': 3}
    """
    ### BEGIN SOLUTION
    words = sorted(set(tokens) - set(SPECIAL_TOKENS))
    return {token: index for index, token in enumerate([*words, *SPECIAL_TOKENS])}
    ### END SOLUTION


class SimpleTokenizer:
    """Word-level tokenizer over a fixed vocabulary (``token -> id``).

    ``vocab`` must contain ``UNKNOWN``; ``inverse`` maps ids back to tokens.
    """

    def __init__(self, vocab: dict[str, int]):
        if UNKNOWN not in vocab:
            raise ValueError(f"the vocabulary needs the {UNKNOWN} token")
        self.vocab = dict(vocab)
        self.inverse = {index: token for token, index in vocab.items()}

    def encode(self, text: str) -> list[int]:
        """Ids of ``pretokenize(text)``; a token missing from the vocabulary -> ``UNKNOWN``'s id."""
        ### BEGIN SOLUTION
        unknown = self.vocab[UNKNOWN]
        return [self.vocab.get(token, unknown) for token in pretokenize(text)]
        ### END SOLUTION

    def decode(self, ids: Iterable[int]) -> str:
        """Text for ``ids``: tokens joined by single spaces, except that no space
        goes before a token that is a single ``PUNCTUATION`` character (``"--"`` is
        two characters, so it gets a space like a word).

        An id that is not in the vocabulary (too large, or negative) raises ``KeyError``.

        >>> tok.decode(tok.encode("Hi , there !"))
        'Hi, there!'
        """
        ### BEGIN SOLUTION
        pieces: list[str] = []
        for index in ids:
            token = self.inverse[int(index)]
            glue = "" if not pieces or (len(token) == 1 and token in PUNCTUATION) else " "
            pieces.append(glue + token)
        return "".join(pieces)
        ### END SOLUTION
