"""Golden values for data.FastTextHash and data.NgramHasher, written from
fastText's src/dictionary.cc (Dictionary::hash, addWordNgrams, pushHash)
with C's integer conversions spelled out: the byte as a signed char, the
uint32 hash stored in a std::vector<int32_t>, read back into a uint64_t.

    python3 ngrams_golden.py > ngrams_golden.json
"""
import json

M32, M64 = (1 << 32) - 1, (1 << 64) - 1


def signed(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def ft_hash(token):
    h = 2166136261
    for byte in token.encode("utf-8"):
        h ^= signed(byte, 8) & M32  # uint32_t(int8_t(c))
        h = (h * 16777619) & M32
    return h


def word_ngrams(tokens, n, buckets, offset):
    hashes = [signed(ft_hash(t), 32) for t in tokens]  # std::vector<int32_t>
    rows = []
    for i in range(len(hashes)):
        h = hashes[i] & M64  # uint64_t h = hashes[i]
        for j in range(i + 1, min(len(hashes), i + n)):
            h = (h * 116049371 + (hashes[j] & M64)) & M64
            rows.append(offset + h % buckets)
    return rows


tokens = ["the", "movie", "was", "très", "bon", "!", "</s>"]
cases = [
    {"tokens": tokens, "n": 2, "buckets": 2000000, "offset": 10000},
    {"tokens": tokens, "n": 3, "buckets": 1000, "offset": 0},
    {"tokens": ["a", "b"], "n": 5, "buckets": 7, "offset": 3},
    {"tokens": ["solo"], "n": 2, "buckets": 10, "offset": 0},
]
for c in cases:
    c["rows"] = word_ngrams(c["tokens"], c["n"], c["buckets"], c["offset"])
print(json.dumps({"hashes": {t: ft_hash(t) for t in tokens + ["", "ü"]}, "cases": cases}, ensure_ascii=False))
