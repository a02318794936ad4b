#!/usr/bin/env python3
"""Baseline: score JSONL corpora with alt-profanity-check.

Tool:   alt-profanity-check 1.9.1 (PyPI), https://github.com/dimitrismistriotis/alt-profanity-check,
        by Victor Zhou (original profanity-check), Menelaos Kotoglou, Dimitrios Mistriotis; MIT licence.
        It ships its own linear SVM model (trained with scikit-learn 1.9.1, pinned alongside).
Rule:   a line is predicted harassing when predict_prob(text) >= 0.5.
Input:  JSON lines with "text" and "harassing" (true/false); optional "category" (positives)
        and "kind" (any line).
Output: per file: n, TP, FP, FN, TN, precision, recall; recall per category and per kind of
        the harassing lines; false-positive rate per kind of the other lines.
        --json prints one JSON object per file instead of the table.

Usage:  profanity_check.py [--json] IN.jsonl [IN2.jsonl ...]
"""
import json
import os
import sys
from collections import defaultdict

# This file is itself named profanity_check.py: drop its folder from the import path so that
# the import below finds the installed package, not this script.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
from profanity_check import predict_prob  # noqa: E402

THRESHOLD = 0.5


def ratio(a, b):
    return round(a / b, 4) if b else None


def score(path):
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for i, r in enumerate(rows, 1):
        if not isinstance(r.get("harassing"), bool) or not isinstance(r.get("text"), str):
            sys.exit(f"profanity_check.py: {path}: line {i} lacks a string 'text' or a boolean 'harassing'")
    probs = predict_prob([r["text"] for r in rows]) if rows else []
    c = defaultdict(int)
    by_cat = defaultdict(lambda: [0, 0])       # category -> [n, TP]   (harassing lines)
    by_kind_pos = defaultdict(lambda: [0, 0])  # kind -> [n, TP]       (harassing lines)
    by_kind_neg = defaultdict(lambda: [0, 0])  # kind -> [n, FP]       (other lines)
    for r, p in zip(rows, probs):
        pred = bool(p >= THRESHOLD)
        if r["harassing"]:
            c["TP" if pred else "FN"] += 1
            for table, key in ((by_cat, r.get("category", "-")), (by_kind_pos, r.get("kind", "-"))):
                table[key][0] += 1
                table[key][1] += pred
        else:
            c["FP" if pred else "TN"] += 1
            by_kind_neg[r.get("kind", "-")][0] += 1
            by_kind_neg[r.get("kind", "-")][1] += pred
    tp, fp, fn, tn = c["TP"], c["FP"], c["FN"], c["TN"]
    return {
        "file": path, "tool": "alt-profanity-check 1.9.1", "threshold": THRESHOLD,
        "n": len(rows), "TP": tp, "FP": fp, "FN": fn, "TN": tn,
        "precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn),
        "fp_rate": ratio(fp, fp + tn),
        "recall_by_category": {k: {"n": n, "TP": t, "recall": ratio(t, n)} for k, (n, t) in sorted(by_cat.items())},
        "recall_by_kind": {k: {"n": n, "TP": t, "recall": ratio(t, n)} for k, (n, t) in sorted(by_kind_pos.items())},
        "fp_rate_by_kind": {k: {"n": n, "FP": f, "fp_rate": ratio(f, n)} for k, (n, f) in sorted(by_kind_neg.items())},
    }


def fmt(x):
    return "  n/a" if x is None else f"{x:.3f}"


def print_table(s):
    print(f"== {os.path.basename(s['file'])}  ({s['tool']}, harassing if prob >= {s['threshold']})")
    print(f"n={s['n']}  TP={s['TP']}  FP={s['FP']}  FN={s['FN']}  TN={s['TN']}  "
          f"precision={fmt(s['precision'])}  recall={fmt(s['recall'])}  fp_rate={fmt(s['fp_rate'])}")
    sections = (("recall by category", s["recall_by_category"], "TP", "recall"),
                ("recall by kind (harassing)", s["recall_by_kind"], "TP", "recall"),
                ("FP rate by kind (not harassing)", s["fp_rate_by_kind"], "FP", "fp_rate"))
    for title, table, hit, rate in sections:
        if not table:
            continue
        print(f"  {title:<30}{'n':>5}{hit:>5}{rate:>9}")
        for k, v in table.items():
            print(f"    {k:<28}{v['n']:>5}{v[hit]:>5}{fmt(v[rate]):>9}")
    print()


def main(argv):
    as_json = "--json" in argv
    paths = [a for a in argv if a != "--json"]
    if not paths:
        sys.exit(__doc__)
    for path in paths:
        s = score(path)
        if as_json:
            print(json.dumps(s))
        else:
            print_table(s)


if __name__ == "__main__":
    main(sys.argv[1:])
