#!/usr/bin/python3
"""Naive byte-level BPE trainer: the independent reference for paw's BpeTrainer tests.

Written from the algorithm's textbook description, not from paw's code: count pre-tokenized
words; repeatedly recount every adjacent pair (weighted by word count), merge the most frequent
pair everywhere (left to right, non-overlapping), until the vocabulary has `vocab_size` tokens
or no pair occurs `min_frequency` times. Ties: the pair whose left token's bytes sort first,
then the right token's bytes (the rule paw documents).

Only for ASCII corpora: Qwen2's split regex is spelled here with ASCII classes ([A-Za-z] for
\\p{L}, [0-9] for \\p{N}), which is exact for ASCII text (and ASCII text is already NFC).

usage: bpe_train_ref.py corpus.txt vocab_size min_frequency
prints a JSON list of merges as [left, right] in GPT-2's byte-level alphabet.
"""
import json
import re
import sys
from collections import Counter

from gpt2_bytes import bytes_to_unicode

QWEN2_ASCII = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]| ?[^\sA-Za-z0-9]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def main():
    path, vocab_size, min_freq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    text = open(path, "rb").read().decode("ascii")
    words = Counter(m.group(0).encode("ascii") for m in QWEN2_ASCII.finditer(text))
    # Each word as a tuple of byte strings.
    seqs = {w: tuple(bytes([b]) for b in w) for w in words}
    vocab = {bytes([b]) for b in range(256)}
    merges = []
    while len(vocab) < vocab_size:
        pairs = Counter()
        for w, c in words.items():
            s = seqs[w]
            for i in range(len(s) - 1):
                pairs[(s[i], s[i + 1])] += c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1]))
        (left, right), count = best
        if count < min_freq:
            break
        merged = left + right
        merges.append((left, right))
        vocab.add(merged)
        for w in words:
            s = seqs[w]
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == left and s[i + 1] == right:
                    out.append(merged)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = tuple(out)
    table = bytes_to_unicode()
    to_text = lambda b: "".join(table[x] for x in b)
    json.dump([[to_text(l), to_text(r)] for l, r in merges], sys.stdout)


if __name__ == "__main__":
    main()
