#!/usr/bin/env python3
"""check.py IN.jsonl OUTDIR [--samples N]: check the files obfuscate.sh wrote.

For every OUTDIR/<tool>-<rate>.jsonl: valid UTF-8 JSON lines, as many as IN and in the same
order, every field but "text" unchanged, "tool"/"rate" right, non-letters untouched, and no
letter replaced by more or less than one code point. Prints one row per file: the fraction
of ASCII letters changed, of all of them and of those the tool covers (OUTDIR/coverage.json),
which should be near rate/100. Exits 1 on any failure. Standard library only.
"""
import json
import os
import re
import string
import sys

LETTERS = set(string.ascii_letters)


def fail(msg):
    sys.exit(f"check.py: {msg}")


def main():
    args = sys.argv[1:]
    samples = 0
    if "--samples" in args:
        i = args.index("--samples")
        samples = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        fail("usage: check.py IN.jsonl OUTDIR [--samples N]")
    src, outdir = args
    with open(src, encoding="utf-8") as f:
        inp = [json.loads(l) for l in f]
    with open(os.path.join(outdir, "coverage.json"), encoding="utf-8") as f:
        coverage = {c["tool"]: set(c["covered"]) for c in map(json.loads, f)}

    files = sorted(n for n in os.listdir(outdir) if re.fullmatch(r"[a-z]+-\d+\.jsonl", n))
    if not files:
        fail(f"no <tool>-<rate>.jsonl in {outdir}")
    print(f"{'file':<22}{'lines':>6}{'letters':>9}{'covered':>9}{'changed':>9}{'of all':>8}{'of cov':>8}")
    for name in files:
        tool, rate = name[:-6].rsplit("-", 1)
        rate = int(rate)
        path = os.path.join(outdir, name)
        try:
            raw = open(path, "rb").read().decode("utf-8")
        except UnicodeDecodeError as e:
            fail(f"{name}: not UTF-8: {e}")
        lines = raw.splitlines()
        if len(lines) != len(inp):
            fail(f"{name}: {len(lines)} lines, input has {len(inp)}")
        cov = coverage[tool]
        n_letters = n_cov = n_changed = n_changed_cov = 0
        for i, (line, a) in enumerate(zip(lines, inp), 1):
            try:
                b = json.loads(line)
            except json.JSONDecodeError as e:
                fail(f"{name}:{i}: not JSON: {e}")
            want = dict(a, tool=tool, rate=rate)
            if {k: v for k, v in b.items() if k != "text"} != {k: v for k, v in want.items() if k != "text"}:
                fail(f"{name}:{i}: fields other than text differ from input line {i}")
            x, y = a["text"], b["text"]
            if len(x) != len(y):
                fail(f"{name}:{i}: text has {len(y)} code points, input {len(x)}")
            for cx, cy in zip(x, y):
                if cx not in LETTERS:
                    if cx != cy:
                        fail(f"{name}:{i}: non-letter {cx!r} changed to {cy!r}")
                    continue
                n_letters += 1
                n_cov += cx in cov
                n_changed += cx != cy
                n_changed_cov += cx != cy and cx in cov
        print(f"{name:<22}{len(lines):>6}{n_letters:>9}{n_cov:>9}{n_changed:>9}"
              f"{n_changed / max(n_letters, 1):>8.3f}{n_changed_cov / max(n_cov, 1):>8.3f}")
        for line in lines[:samples]:
            print("   ", line)
    for tool, cov in sorted(coverage.items()):
        print(f"coverage {tool}: {len(cov)}/52 ASCII letters; missing: {''.join(sorted(LETTERS - cov)) or '-'}")


if __name__ == "__main__":
    main()
