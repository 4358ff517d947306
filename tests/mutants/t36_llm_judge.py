"""Planted bugs for topic 36. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "judge.py"

EXPLICIT = """    for explicit in (labelled, out_of_100):
        found = re.findall(explicit, reply, flags=re.IGNORECASE)
        if found:  # the judge said which number is the score: trust that one, or nothing
            return as_score(found[-1])
"""
LAST_NUMBER = """    for number in reversed(re.findall(NUMBER, reply)):
        if (score := as_score(number)) is not None:
            return score
    return None
"""
AS_SCORE = """        if number.startswith("-") or "." in number:
            return None
        return int(number) if 0 <= int(number) <= 100 else None
"""
VALIDATE_ENTRIES = """    for i, entry in enumerate(entries):
        # check them all first: a typo in the 90th record must not cost 89 calls to a slow judge
        if not isinstance(entry, Mapping) or not isinstance(entry.get(RESPONSE_KEY), str):
            raise ValueError(f"judge_responses: entry {i} has no {RESPONSE_KEY!r} text to judge "
                             f"(run topic 35's generate_responses first)")
    scores = []
    for i, entry in enumerate(entries):
        score = judge.score(entry, entry[RESPONSE_KEY])
"""
LAZY_VALIDATION = """    scores = []
    for i, entry in enumerate(entries):
        if not isinstance(entry.get(RESPONSE_KEY), str):
            raise ValueError(f"judge_responses: entry {i} has no {RESPONSE_KEY!r} text to judge")
        score = judge.score(entry, entry[RESPONSE_KEY])
"""
NORMALIZE_KEPT = """    kept = "".join(c for c in text.lower()
                   if c not in string.punctuation and not unicodedata.category(c).startswith("P"))
"""
AGG_NONE_FILTER = """        if score is None:
            continue
"""

MUTANTS = [
    # the bug the issue names
    (F, LAST_NUMBER, """    for number in re.findall(NUMBER, reply):
        if (score := as_score(number)) is not None:
            return score
    return None
""", "a parser that takes the first number it sees"),
    (F, EXPLICIT + "    # no label", "    if re.findall(labelled, reply, flags=re.IGNORECASE):\n"
                                     "        return as_score(re.findall(labelled, reply, flags=re.IGNORECASE)[0])\n"
                                     "    # no label",
     "no N/100 rule: '85/100' is read as 100 (the last number)"),
    (F, "0 <= int(number) <= 100 else None", "int(number) >= 0 else None",
     "out-of-range numbers accepted as scores (150)"),
    (F, "0 <= int(number) <= 100 else None", "min(int(number), 100) if int(number) >= 0 else None",
     "numbers above 100 clamped to 100 instead of refused"),
    (F, AS_SCORE, """        number = number.lstrip("-")
        if "." in number:
            return None
        return int(number) if 0 <= int(number) <= 100 else None
""", "negative numbers read without their sign ('-5' -> 5)"),
    (F, 'NUMBER = r"(?<![\\w.])-?\\d+(?:\\.\\d+)?(?!\\w|\\.\\d)"', 'NUMBER = r"\\d+"',
     "a plain \\d+ pattern: decimals split in two ('7.5' -> 5), signs and words ignored ('gpt2' -> 2)"),
    (F, AS_SCORE, """        if number.startswith("-"):
            return None
        return round(float(number)) if 0 <= float(number) <= 100 else None
""", "decimals rounded into scores ('87.5' -> 88)"),
    (F, "            return as_score(found[-1])", "            return as_score(found[0])",
     "the first explicit score wins instead of the last ('Score: 90 ... score: 70')"),
    (F, "    for explicit in (labelled, out_of_100):", "    for explicit in (out_of_100, labelled):",
     "N/100 looked for before `score:` ('Score: 80 (a perfect answer would get 100/100)' -> 100)"),
    (F, """        if found:  # the judge said which number is the score: trust that one, or nothing
            return as_score(found[-1])""", """        if found and as_score(found[-1]) is not None:
            return as_score(found[-1])""",
     "an explicit score that cannot be one falls back to other numbers ('Score: 150 ... 40' -> 40)"),
    (F, "flags=re.IGNORECASE)\n        if found:", "flags=0)\n        if found:",
     "`Score:` only in lower case: 'Score: 85' is not recognised"),
    (F, r'labelled = rf"\bscore[\s*]*:[\s*]*({NUMBER})"', r'labelled = rf"\bscore\s*:\s*({NUMBER})"',
     "Markdown bold not allowed around the colon: '**Score:** 85'"),
    (F, "        if (score := as_score(number)) is not None:\n            return score\n",
     "        return as_score(number)\n",
     "only the very last number is looked at ('40, not 150' -> None)"),
    # the prompt
    (F, "    task = format_input(entry)\n", "    task = entry[\"instruction\"]\n",
     "the judge prompt shows only the instruction: no preamble, no input"),
    (F, """            + "\\n\\n### Reference answer:\\n" + reference
            + "\\n\\n### Model response:\\n" + response""", """            + "\\n\\n### Model response:\\n" + response
            + "\\n\\n### Reference answer:\\n" + reference""",
     "the response before the reference answer"),
    (F, """            + "\\n\\nScore the model response from 0 (wrong or missing) to 100 (as correct and complete as "
              "the reference answer). Reply with one integer from 0 to 100 and nothing else.")""",
     """            + "\\n\\nHow good is the model response? Reply with one integer.")""",
     "the prompt never states the scale 0 to 100"),
    (F, "            + \"\\n\\n### Model response:\\n\" + response\n",
     "            + \"\\n\\n### Model response:\\n\" + response.strip()\n",
     "the response stripped: not exactly as given"),
    (F, '    _text(response, "response", "judge_prompt")\n', "    response = str(response)\n",
     "a response that is not a str is turned into text instead of refused"),
    # normalization and overlap
    (F, '                   if c not in string.punctuation and not unicodedata.category(c).startswith("P"))',
     "                   if c not in string.punctuation)",
     "ASCII punctuation only: curly quotes and dashes stay"),
    (F, '    kept = "".join(c for c in text.lower()\n',
     '    kept = "".join(c for c in text\n', "no lowercasing"),
    (F, NORMALIZE_KEPT,
     '    kept = "".join(" " if c in string.punctuation or unicodedata.category(c).startswith("P") else c\n'
     '                   for c in text.lower())\n',
     "punctuation replaced by a space instead of deleted ('cat's' -> 'cat s')"),
    (F, '    return " ".join(kept.split())\n', "    return kept.strip()\n",
     "runs of whitespace not collapsed"),
    (F, "    said, wanted = normalize_answer(response).split(), normalize_answer(reference).split()",
     "    said, wanted = response.split(), reference.split()",
     "token F1 without normalization"),
    (F, "    return overlap / len(said), overlap / len(wanted)",
     "    return overlap / len(wanted), overlap / len(said)",
     "precision and recall swapped"),
    (F, "    overlap = sum((Counter(said) & Counter(wanted)).values())",
     "    overlap = len(set(said) & set(wanted))", "overlap of sets: repeated words counted once"),
    (F, "    overlap = sum((Counter(said) & Counter(wanted)).values())",
     "    overlap = sum(1 for w in said if w in wanted)", "every repetition in the response counts as overlap"),
    (F, "        both_empty = float(not said and not wanted)", "        both_empty = 0.0",
     "two empty texts score 0 instead of 1"),
    (F, "    return 2 * precision * recall / (precision + recall)",
     "    return (precision + recall) / 2", "the arithmetic mean instead of the harmonic mean"),
    (F, "    return round(100 * token_f1(response, reference))", "    return int(100 * token_f1(response, reference))",
     "the offline score truncated instead of rounded"),
    (F, "    return round(100 * token_f1(response, reference))", "    return 100 * token_f1(response, reference)",
     "the offline score returned as a float"),
    # aggregation
    (F, AGG_NONE_FILTER, """        if score is None:
            parsed.append(0)
            continue
""", "aggregate counts a failed reply (None) as 0"),
    (F, "sum(s >= 50 for s in parsed)", "sum(s > 50 for s in parsed)", "50 not counted as at least 50"),
    (F, "            \"fraction_at_least_50\": sum(s >= 50 for s in parsed) / len(parsed)}",
     "            \"fraction_at_least_50\": sum(s >= 50 for s in parsed) / len(scores)}",
     "the fraction taken over every reply, failed ones included"),
    (F, '    return {"mean": sum(parsed) / len(parsed), "count": len(parsed),',
     '    return {"mean": sum(parsed) / len(parsed), "count": len(scores),', "count includes the failed replies"),
    (F, '        return {"mean": float("nan"), "count": 0, "failed": failed, "fraction_at_least_50": float("nan")}',
     '        return {"mean": 0.0, "count": 0, "failed": failed, "fraction_at_least_50": 0.0}',
     "no parsed score gives a mean of 0 instead of nan"),
    (F, "        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:",
     "        if not isinstance(score, int) or not 0 <= score <= 100:", "True accepted as the score 1"),
    (F, "        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:",
     "        if isinstance(score, bool) or not isinstance(score, (int, float)):", "no range check in aggregate"),
    # judging many
    (F, VALIDATE_ENTRIES, LAZY_VALIDATION, "entries checked one by one while judging: judge calls wasted first"),
    (F, "        score = judge.score(entry, entry[RESPONSE_KEY])",
     "        try:\n            score = judge.score(entry, entry[RESPONSE_KEY])\n"
     "        except Exception:\n            score = None",
     "a failing judge swallowed: a dead server becomes failed scores"),
    (F, "        score = judge.score(entry, entry[RESPONSE_KEY])",
     "        score = judge.score(entry, entry[\"output\"])", "the reference judged instead of the response"),
    (F, "            on_item(i, score)", "            on_item(i + 1, score)", "on_item counts from 1"),
    (F, "    return scores, aggregate(scores)",
     "    return scores, aggregate([s for s in scores if s is not None])", "the summary forgets the failures"),
]
