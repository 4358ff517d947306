"""Planted bugs for topic 31. Each entry: (file, text in the reference, replacement, what it breaks)."""

F = "alpaca.py"

HAS = '    return value is not None and value.strip() != ""\n'
NO_INPUT = '        return f"{PREAMBLE}\\n\\n### Instruction:\\n{instruction}"\n'
WITH_INPUT = ("    return f\"{PREAMBLE_WITH_INPUT}\\n\\n### Instruction:\\n{instruction}"
              "\\n\\n### Input:\\n{entry['input']}\"\n")
INSTRUCTION = '    instruction = _text_field(entry, "instruction", "format_input", required=True)\n'
RESPONSE = '    return f"\\n\\n{RESPONSE_HEADER}\\n{output}"\n'
EXAMPLE = "    return format_input(entry) + format_response(entry)\n"
COPY = "    shuffled = list(entries)  # a copy: the caller's list keeps its order\n"
SHUFFLE = "    random.Random(seed).shuffle(shuffled)\n"
SIZES = "    n_train, n_val = int(n * fractions[0]), int(n * fractions[1])\n"
PARTS = "    return shuffled[:n_train], shuffled[n_train:n_train + n_val], shuffled[n_train + n_val:]\n"
CHECK = "    if len(fractions) != 3 or any(f < 0 for f in fractions) or sum(fractions) > 1 + 1e-9:\n"

MUTANTS = [
    # has_input
    (F, HAS, "    return value is not None\n", "an empty or blank input gets an Input section"),
    (F, HAS, "    return bool(value)\n", "a whitespace-only input gets an Input section"),
    (F, HAS, '    return value is not None and value != ""\n', "a whitespace-only input counts as an input"),
    (F, '    value = _text_field(entry, "input", "has_input", required=False)\n',
     '    value = entry.get("input") if isinstance(entry, dict) else None\n'
     '    value = value if isinstance(value, str) else None\n',
     "a non-str input silently ignored instead of TypeError"),
    # format_input
    (F, NO_INPUT, '        return f"{PREAMBLE}\\n### Instruction:\\n{instruction}"\n',
     "one newline instead of a blank line after the preamble"),
    (F, NO_INPUT, '        return f"{PREAMBLE}\\n\\n### Instruction:\\n{instruction}\\n"\n',
     "a trailing newline after the instruction"),
    (F, NO_INPUT, '        return f"{PREAMBLE}\\n\\n### Instruction: {instruction}"\n',
     "instruction on the header's line"),
    (F, NO_INPUT, '        return f"{PREAMBLE}\\n\\n### Instruction:\\n{instruction.strip()}"\n',
     "instruction stripped (no input)"),
    (F, WITH_INPUT, WITH_INPUT.replace("{PREAMBLE_WITH_INPUT}", "{PREAMBLE}"),
     "the same preamble for records with an input"),
    (F, NO_INPUT, NO_INPUT.replace("{PREAMBLE}", "{PREAMBLE_WITH_INPUT}"),
     "the input preamble for records without an input"),
    (F, WITH_INPUT, WITH_INPUT.replace("\\n\\n### Input:\\n", "\\n### Input:\\n"),
     "one newline before the Input header"),
    (F, WITH_INPUT, WITH_INPUT.replace("\\n\\n### Input:\\n", "\\n\\n### Input:\\n\\n"),
     "a blank line after the Input header"),
    (F, WITH_INPUT, WITH_INPUT.replace("{entry['input']}", "{entry['input'].strip()}"), "input stripped"),
    (F, WITH_INPUT, WITH_INPUT.replace("{instruction}", "{instruction.strip()}"), "instruction stripped (input)"),
    (F, WITH_INPUT, WITH_INPUT.replace("{entry['input']}\"", "{entry['input']}\\n\""),
     "a trailing newline after the input"),
    (F, INSTRUCTION, '    instruction = entry["instruction"]\n',
     "a missing instruction raises KeyError, a non-str one is not caught"),
    (F, INSTRUCTION, '    instruction = entry.get("instruction") or ""\n',
     "a missing instruction silently becomes an empty one"),
    # format_response / format_example
    (F, RESPONSE, '    return f"\\n{RESPONSE_HEADER}\\n{output}"\n', "one newline before the Response header"),
    (F, RESPONSE, '    return f"\\n\\n{RESPONSE_HEADER}\\n{output.strip()}"\n', "output stripped"),
    (F, RESPONSE, '    return f"\\n\\n{RESPONSE_HEADER}\\n{output}\\n"\n', "a trailing newline after the output"),
    (F, RESPONSE, '    return f"\\n\\n{RESPONSE_HEADER}\\n{output}" if output else ""\n',
     "an empty output drops the Response header"),
    (F, '    output = _text_field(entry, "output", "format_response", required=True)\n',
     '    output = entry.get("output") or ""\n', "a missing output silently becomes an empty one"),
    (F, EXAMPLE, '    return format_input(entry) + "\\n" + format_response(entry)\n',
     "an extra newline between prompt and response"),
    (F, EXAMPLE, "    return format_response(entry) + format_input(entry)\n", "response before prompt"),
    # split_entries
    (F, COPY, "    shuffled = entries  # a copy: the caller's list keeps its order\n",
     "shuffles the caller's list in place"),
    (F, SHUFFLE, "    random.Random(123).shuffle(shuffled)\n", "seed ignored (always 123)"),
    (F, SHUFFLE, "    random.shuffle(shuffled)\n", "the global random generator instead of the seed"),
    (F, SHUFFLE, "    random.seed(seed)\n    random.shuffle(shuffled)\n", "reseeds Python's global random"),
    (F, SHUFFLE, "", "not shuffled at all"),
    (F, SHUFFLE, "    shuffled = random.Random(seed).sample(shuffled, len(shuffled))\n",
     "random.sample instead of shuffle: another permutation"),
    (F, SIZES, "    n_train, n_val = round(n * fractions[0]), round(n * fractions[1])\n", "sizes rounded, not int()"),
    (F, SIZES, "    n_train = int(n * fractions[0])\n    n_val = int(n * (fractions[0] + fractions[1])) - n_train\n",
     "val size from the cumulative fraction"),
    (F, SIZES, "    n_train, n_val = -int(-n * fractions[0] // 1), int(n * fractions[1])\n",
     "train size rounded up"),
    (F, PARTS, "    n_test = int(n * fractions[2])\n"
               "    return shuffled[:n_train], shuffled[n_train:n_train + n_val], "
               "shuffled[n_train + n_val:n_train + n_val + n_test]\n",
     "test size from its fraction: records lost"),
    (F, PARTS, "    return shuffled[:n_train], shuffled[n_train + 1:n_train + n_val], shuffled[n_train + n_val:]\n",
     "one record lost between train and val"),
    (F, PARTS, "    return shuffled[:n_train], shuffled[n_train:n_train + n_val], shuffled[n_train:]\n",
     "the test part overlaps val"),
    (F, PARTS, "    return (shuffled[:n_train], shuffled[n_train:n_train + n_val], shuffled[n_train + n_val:])[::-1]\n",
     "parts in the wrong order"),
    (F, PARTS, "    import copy\n"
               "    shuffled = [copy.copy(e) for e in shuffled]\n" + PARTS,
     "copies of the records instead of the records"),
    (F, PARTS, "    return tuple(shuffled[:n_train]), tuple(shuffled[n_train:n_train + n_val]), "
               "tuple(shuffled[n_train + n_val:])\n", "tuples instead of lists"),
    (F, CHECK, "    if len(fractions) != 3 or any(f < 0 for f in fractions):\n", "a sum above 1 accepted"),
    (F, CHECK, "    if len(fractions) != 3 or sum(fractions) > 1 + 1e-9:\n", "a negative fraction accepted"),
    (F, CHECK, "    if len(fractions) != 3 or any(f < 0 for f in fractions) or sum(fractions) > 1:\n",
     "float slack refused: (0.34, 0.56, 0.1) raises"),
]
