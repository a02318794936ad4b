#!/usr/bin/env python3
"""Obfuscate a JSONL corpus with the PyPI tool `homoglyphs`.

Tool:    homoglyphs 2.0.4 (PyPI), https://github.com/life4/homoglyphs, by orsinium (life4), MIT licence.
Data:    the look-alikes of a letter are what the tool's own API returns:
         Homoglyphs(categories=CATEGORIES).get_combinations(letter), minus the letter itself.
         We pick the scripts LATIN, COMMON, GREEK, CYRILLIC (the tool's default is LATIN+COMMON;
         Greek and Cyrillic add the classic look-alikes such as Cyrillic 'а' for 'a').
Rate:    RATE is a percentage p. Each ASCII letter of "text" is, with probability p/100, replaced
         by a look-alike chosen at random among the tool's look-alikes for it; a letter with none
         is kept. Non-letters are never touched. The random generator is seeded with 17 for every
         output file, so a rerun writes the same bytes.

Usage:   obf_homoglyphs.py IN.jsonl OUT.jsonl RATE     (RATE: 40 or 100, an integer percentage)
         obf_homoglyphs.py --coverage                  (print the tool's letter coverage as JSON)
Output:  each input object with "text" replaced and "tool": "homoglyphs", "rate": RATE added;
         same lines, same order, other fields unchanged.
"""
import json
import random
import string
import sys
from importlib.metadata import version

import homoglyphs

TOOL = "homoglyphs"
PINNED = "2.0.4"
SEED = 17
CATEGORIES = ("LATIN", "COMMON", "GREEK", "CYRILLIC")


def lookalikes():
    """letter -> sorted list of the tool's single-character look-alikes (may be empty)."""
    hg = homoglyphs.Homoglyphs(categories=CATEGORIES)
    table = {}
    for letter in string.ascii_letters:  # fixed order: the tool caches variants as it goes
        table[letter] = sorted(v for v in hg.get_combinations(letter) if v != letter and len(v) == 1)
    return table


def obfuscate(text, table, p, rng):
    out = []
    for ch in text:
        if ch in table:  # an ASCII letter: one draw for each, covered by the tool or not
            if rng.random() < p and table[ch]:
                ch = rng.choice(table[ch])
        out.append(ch)
    return "".join(out)


def main(argv):
    if version("homoglyphs") != PINNED:
        sys.exit(f"{TOOL}: installed homoglyphs {version('homoglyphs')} is not the pinned {PINNED}")
    table = lookalikes()
    if argv[1:] == ["--coverage"]:
        print(json.dumps({"tool": TOOL, "version": PINNED,
                          "covered": "".join(c for c in string.ascii_letters if table[c]),
                          "lookalikes": sum(map(len, table.values()))}))
        return
    if len(argv) != 4:
        sys.exit(__doc__)
    src, dst, rate = argv[1], argv[2], int(argv[3])
    rng = random.Random(SEED)
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for n, line in enumerate(fin, 1):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{TOOL}: {src}:{n}: not JSON: {e}")
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                sys.exit(f"{TOOL}: {src}:{n}: no string field \"text\"")
            obj["text"] = obfuscate(obj["text"], table, rate / 100, rng)
            obj["tool"], obj["rate"] = TOOL, rate
            fout.write(json.dumps(obj, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv)
