package models

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

func TestTmpPredictSpeed(t *testing.T) {
	ck, err := Load("/tmp/h-bowload/rt.ck")
	if err != nil {
		t.Skip(err)
	}
	raw, _ := os.ReadFile("/tmp/h-bowload/lines")
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	m := ck.Model.(*Bow)
	for r := 0; r < 3; r++ {
		t0 := time.Now()
		bags := m.Bags(ck.Tokenizer, lines)
		t1 := time.Now()
		n := 0
		for _, b := range bags {
			n += len(b)
		}
		if _, err := m.Logits(bags); err != nil {
			t.Fatal(err)
		}
		t2 := time.Now()
		t.Logf("bags %v (%.0f ns/line), logits %v (%.0f ns/row, %d rows)", t1.Sub(t0), float64(t1.Sub(t0).Nanoseconds())/float64(len(lines)), t2.Sub(t1), float64(t2.Sub(t1).Nanoseconds())/float64(n), n)
	}
}

func TestTmpFiniteSpeed(t *testing.T) {
	v := make([]float32, 200_000_000)
	for i := range v {
		v[i] = float32(i % 7)
	}
	for r := 0; r < 3; r++ {
		t0 := time.Now()
		ok := allFinite(v)
		t1 := time.Now()
		old := true
		for _, x := range v {
			if math.Float32bits(x)&0x7f800000 == 0x7f800000 {
				old = false
				break
			}
		}
		t.Logf("swar %v %v, scalar %v %v", t1.Sub(t0), ok, time.Since(t1), old)
	}
}
