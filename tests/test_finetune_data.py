"""Stage 5's data (``llmkit.finetune_data``): the bundled spam file, the kit's instruction set, user files."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from llmkit import finetune_data as fd


def test_bundled_spam_collection_has_the_published_counts():
    texts, labels = fd.read_spam()
    assert fd.spam_file().name == "spam_collection.csv"
    assert (len(texts), Counter(labels)) == (4862, Counter({0: 4220, 1: 642}))
    assert all(isinstance(t, str) and t == t.strip() and t for t in texts)


def test_users_spam_file_tolerates_bom_crlf_blank_lines_and_label_case(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_bytes("\ufeffham\tHello there\r\nSPAM\tWIN a prize\tnow\r\n\r\nHam\t  see you  \r\n".encode())
    assert fd.read_spam(path) == (["Hello there", "WIN a prize\tnow", "see you"], [0, 1, 0])
    path.write_bytes("ham\tna\xefve caf\xe9\nspam\tfree\n".encode("latin-1"))  # an older, Latin-1 file
    assert fd.read_spam(str(path)) == (["na\xefve caf\xe9", "free"], [0, 1])


@pytest.mark.parametrize(("content", "fragments"), [
    ("", ["is empty", "label<TAB>text"]),
    ("\n\n", ["is empty"]),
    ("ham\thi\nspam,win now\n", ["line 2", "label<TAB>text", "commas"]),
    ("ham\thi\nspam win now\n", ["line 2", "label<TAB>text", "no tab"]),
    ("ham\thi\nspom\twin\n", ["line 2", "'spom'", "ham or spam"]),
    ("ham\thi\nspam\t   \n", ["line 2", "empty"]),
    ("ham\thi\nham\tho\n", ["only ham", "both"]),
    ("spam\thi\n", ["only spam"]),
])
def test_malformed_spam_file_gives_one_clear_error(tmp_path, content, fragments):
    path = tmp_path / "bad.tsv"
    path.write_text(content)
    with pytest.raises(ValueError) as info:
        fd.read_spam(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_missing_spam_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fd.read_spam(tmp_path / "nope.tsv")
    with pytest.raises(ValueError, match="folder"):
        fd.read_spam(tmp_path)


def test_instruction_set_is_deterministic_distinct_and_mixed():
    state = random.getstate()
    records = fd.instruction_set()
    assert random.getstate() == state  # a private generator
    assert records == fd.instruction_set(seed=0) and records != fd.instruction_set(seed=1)
    assert len(records) == 1100
    assert len({(r["instruction"], r["input"]) for r in records}) == 1100
    families = Counter(r["family"] for r in records)
    assert set(families) == set(fd.FAMILIES) and min(families.values()) >= 90  # a small table runs out first
    with_input = sum(bool(r["input"]) for r in records) / len(records)
    assert 0.35 < with_input < 0.65
    for record in records:
        assert set(record) == {"instruction", "input", "output", "family"}
        assert all(isinstance(v, str) for v in record.values()) and record["instruction"] and record["output"]
        assert len(record["output"].split()) <= 3 and record["output"].isascii()
    assert len(fd.instruction_set(seed=3, size=7)) == 7


def test_instruction_answers_are_right():
    for record in fd.instruction_set(seed=2, size=400):
        data = record["input"] or record["instruction"].split(": ")[-1]
        family, output = record["family"], record["output"]
        if family == "reverse":
            assert output == " ".join(reversed(data.split()))
        elif family == "sort":
            assert output == " ".join(sorted(data.split()))
        elif family == "uppercase":
            assert output == data.upper()
        elif family == "plural" and record["input"]:
            assert fd.PLURALS[record["input"]] == output
        elif family == "pick":
            words = data.split()
            assert output == (words[0] if "first" in record["instruction"] else words[-1])
        elif family == "count" and record["input"]:
            assert int(output) == len(record["input"].split())
        elif family == "arithmetic" and record["input"]:
            a, b = map(int, record["input"].split(" and "))
            verb = record["instruction"].split()[0]
            assert int(output) == {"Add": a + b, "Subtract": a - b, "Multiply": a * b}[verb]
    assert fd.PLURALS["mouse"] == "mice" and fd.CAPITALS["Japan"] == "Tokyo"
    assert fd.ANTONYMS["hot"] == "cold" and fd.ANTONYMS["cold"] == "hot"


def test_instruction_set_rejects_bad_sizes():
    for size in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="size"):
            fd.instruction_set(size=size)


def test_read_alpaca_accepts_a_users_file(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps([{"instruction": "Say hi.", "output": "hi"},
                                {"instruction": "Double it.", "input": "4", "output": "8", "id": 7},
                                {"instruction": "Nothing.", "input": None, "output": "ok"}]))
    assert fd.read_alpaca(path) == [{"instruction": "Say hi.", "output": "hi", "input": ""},
                                    {"instruction": "Double it.", "input": "4", "output": "8", "id": 7},
                                    {"instruction": "Nothing.", "input": "", "output": "ok"}]


GOOD = {"instruction": "Say hi.", "input": "", "output": "hi"}


@pytest.mark.parametrize(("content", "fragments"), [
    ('[{"instruction": "a", "output": "b"},\n {"instruction": }]', ["not valid JSON", "line 2", "column"]),
    (json.dumps({"instruction": "a", "output": "b"}), ["expected a JSON list", "object"]),
    ("[]", ["empty list"]),
    ("", ["not valid JSON", "line 1"]),
    (json.dumps([GOOD, "just text"]), ["record 1", "found a JSON string"]),
    (json.dumps([GOOD, GOOD, {"instruction": "a"}]), ["record 2", "'output' is missing"]),
    (json.dumps([{"prompt": "a", "output": "b"}]), ["record 0", "'instruction' is missing", "prompt"]),
    (json.dumps([GOOD, {"instruction": "a", "output": 3}]), ["record 1", "'output' must be a string", "number"]),
    (json.dumps([{"instruction": "a", "input": ["x"], "output": "b"}]), ["record 0", "'input'", "list"]),
    (json.dumps([{"instruction": "  ", "output": "b"}]), ["record 0", "'instruction' is empty"]),
])
def test_malformed_alpaca_file_gives_one_clear_error(tmp_path, content, fragments):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError) as info:
        fd.read_alpaca(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
