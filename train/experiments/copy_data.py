#!/usr/bin/python3
"""Copy-probe data for the curriculum experiment in docs/TRAINING.md ("Copy probes").

Writes JSONL records (spec, input, output, family) of three in-context copy tasks over
dictionary words: "repeat" (repeat the input), "after" (the word that follows X in a listed
sequence), "lookup" (the value listed for key X). Each spec carries three worked examples in
the generator's `Input: ... Output: ...` style. Stand-in until the C++ generator has copy
families; run with Debian's /usr/bin/python3.

  copy_data.py --n 12000 --seed 5 --families repeat -o rep.jsonl       # stage-0 data
  copy_data.py --n 100 --seed 99 --families repeat -o rep_held.jsonl   # its held-out probe
"""
import argparse
import json
import random
import re


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=12000, help="records to write")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--families", default="repeat,after,lookup")
    ap.add_argument("--words", default="/usr/share/dict/words", help="word list (Debian wamerican)")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    words = [w.strip() for w in open(a.words, encoding="utf-8") if re.fullmatch(r"[a-z]{3,9}", w.strip())]

    def examples(pairs):
        return "\n\n".join(f"Input: {i}\nOutput: {o}" for i, o in pairs)

    def repeat():
        def one():
            s = " ".join(rng.sample(words, rng.randint(2, 6)))
            return s, s
        ex, (i, o) = [one() for _ in range(3)], one()
        return "Repeat the input exactly, word for word.\n\nExamples:\n" + examples(ex), i, o

    def after():
        seq = rng.sample(words, rng.randint(5, 9))
        def one():
            k = rng.randrange(len(seq) - 1)
            return seq[k], seq[k + 1]
        ex, (i, o) = [one() for _ in range(3)], one()
        spec = ("The sequence is: " + ", ".join(seq) + ".\nGiven a word of the sequence, answer with the word "
                "that follows it.\n\nExamples:\n" + examples(ex))
        return spec, i, o

    def lookup():
        keys = rng.sample(words, rng.randint(3, 6))
        vals = rng.sample(words, len(keys))
        table = "\n".join(f"- {k}: {v}" for k, v in zip(keys, vals))
        def one():
            k = rng.randrange(len(keys))
            return f"what is {keys[k]}?", vals[k]
        ex, (i, o) = [one() for _ in range(3)], one()
        return "Answer with the value listed for the key in the question.\n" + table + "\n\nExamples:\n" + examples(ex), i, o

    makers = {"repeat": repeat, "after": after, "lookup": lookup}
    fams = a.families.split(",")
    with open(a.output, "w", encoding="utf-8") as f:
        for _ in range(a.n):
            fam = rng.choice(fams)
            spec, i, o = makers[fam]()
            f.write(json.dumps({"spec": spec, "input": i, "output": o, "family": fam}) + "\n")


if __name__ == "__main__":
    main()
