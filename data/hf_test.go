package data

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// hfScript encodes each text of texts.json with HF tokenizers' node
// binding and prints the ids as one JSON array.
const hfScript = `
const { Tokenizer } = require("tokenizers");
const fs = require("fs");
(async () => {
  const tok = Tokenizer.fromFile(process.argv[2]);
  const texts = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
  const out = [];
  for (const t of texts) {
    const enc = await tok.encode(t, null, { addSpecialTokens: false });
    out.push(enc.getIds());
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`

// TestHFTokenizers checks that HF's own library (the npm package
// tokenizers, under node) reads WriteJSON's file and gives Encode's ids on
// all of rt-polarity. It runs when CLASSIFY_NODE_PATH names a
// node_modules folder that holds tokenizers (npm install tokenizers).
func TestHFTokenizers(t *testing.T) {
	nodePath := os.Getenv("CLASSIFY_NODE_PATH")
	node, err := exec.LookPath("node")
	if nodePath == "" || err != nil {
		t.Skip("set CLASSIFY_NODE_PATH to a node_modules folder holding the npm package tokenizers, and have node on PATH")
	}
	texts := Texts(rtPolarity(t))
	tok, _ := NewTokenizer(BuildVocabulary(texts[:8000], 10000))
	dir := t.TempDir()
	tj, tx := filepath.Join(dir, "tokenizer.json"), filepath.Join(dir, "texts.json")
	if err := tok.WriteJSON(tj); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(texts)
	os.WriteFile(tx, b, 0o644)
	script := filepath.Join(dir, "encode.js")
	os.WriteFile(script, []byte(hfScript), 0o644)
	cmd := exec.Command(node, script, tj, tx)
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodePath)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got [][]int
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(texts) {
		t.Fatalf("node printed %d encodings (%v), want %d", len(got), err, len(texts))
	}
	bad := 0
	for i, text := range texts {
		want, _ := tok.Encode(text, 0)
		if len(got[i]) == 0 {
			got[i] = []int{UnkID} // HF gives no ids for a text without words
		}
		if !reflect.DeepEqual(got[i], want) {
			if bad++; bad <= 5 {
				t.Errorf("HF tokenizers: Encode(%q) = %v, want %v", text, got[i], want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d texts differ", bad, len(texts))
	}
}
