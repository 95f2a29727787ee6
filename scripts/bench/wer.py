#!/usr/bin/env python3
"""Word error rate of a hypothesis against a reference: lower-case, punctuation stripped."""
import re, sys

def words(t):
    return [w for w in (re.sub(r"[^a-z0-9']", "", w.lower()) for w in t.split()) if w]

def wer(ref, hyp):
    r, h = words(ref), words(hyp)
    row = list(range(len(h) + 1))
    for i, rw in enumerate(r):
        prev, row[0] = row[0], i + 1
        for j, hw in enumerate(h):
            cur = min(prev + (rw != hw), row[j] + 1, row[j + 1] + 1)
            prev, row[j + 1] = row[j + 1], cur
    return row[len(h)] / max(len(r), 1)

if __name__ == "__main__":
    print(f"{wer(open(sys.argv[1]).read(), open(sys.argv[2]).read()):.4f}")
