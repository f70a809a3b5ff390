package data

// FastTextEOS is the token fastText reads at the end of every line and
// hashes as its last word, so that a text's last word makes an n-gram too.
const FastTextEOS = "</s>"

// FastTextHash is fastText's hash of a token (Dictionary::hash): 32-bit
// FNV-1a over its bytes, each byte sign-extended as a C signed char, which
// fastText keeps so that every released model hashes alike.
func FastTextHash(token string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(token); i++ {
		h ^= uint32(int32(int8(token[i])))
		h *= 16777619
	}
	return h
}

// NgramHasher gives the hashed word n-grams of fastText's supervised
// classifier (Dictionary::addWordNgrams): every run of 2 to N consecutive
// tokens i..j goes to row Offset + h(i,j) mod Buckets, where h(i,i) is
// token i's FastTextHash and h(i,j) = h(i,j-1)·116049371 + hash(token j)
// in 64-bit arithmetic, each 32-bit hash sign-extended as fastText's
// int32 vector of hashes does. Every token counts, in the vocabulary or
// not. A table of V words and B buckets of d float32 values costs
// 4·d·(V+B) bytes: 2,000,000 buckets of 100 values (fastText's defaults)
// are 800 MB, plus what the optimizer keeps per row.
type NgramHasher struct {
	// N is the longest n-gram; below 2 there are none.
	N int
	// Buckets is the number of rows the n-grams share; 0 for none.
	Buckets int
	// Offset is the first bucket's row: the number of word rows.
	Offset int
}

// Append appends the rows of the n-grams of tokens to ids and returns
// them: for each start i, the n-grams i..i+1, ..., i..i+N-1, as fastText
// orders them.
func (h NgramHasher) Append(ids []int, tokens []string) []int {
	if h.N < 2 || h.Buckets <= 0 || len(tokens) < 2 {
		return ids
	}
	hashes := make([]uint64, len(tokens))
	for i, t := range tokens {
		hashes[i] = uint64(int64(int32(FastTextHash(t))))
	}
	buckets := uint64(h.Buckets)
	for i := range hashes {
		v := hashes[i]
		for j := i + 1; j < len(hashes) && j < i+h.N; j++ {
			v = v*116049371 + hashes[j]
			ids = append(ids, h.Offset+int(v%buckets))
		}
	}
	return ids
}

// Count is the number of n-grams Append gives for n tokens.
func (h NgramHasher) Count(n int) int {
	if h.N < 2 || h.Buckets <= 0 {
		return 0
	}
	c := 0
	for i := 0; i < n; i++ {
		c += min(h.N-1, n-1-i)
	}
	return c
}
