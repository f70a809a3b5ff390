package wordvec

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strings"

	"gonum.org/v1/gonum/blas"
)

// Question is one analogy question a : b :: c : d of an analogy test set,
// with the index of its section.
type Question struct {
	Section int
	Words   [4]string
}

// Analogies is an analogy test set in the format of word2vec's
// questions-words.txt (Mikolov et al. 2013): sections opened by a line
// ": name", then one question "a b c d" a line.
type Analogies struct {
	// Sections holds the sections' names in file order.
	Sections  []string
	Questions []Question
}

// ReadAnalogies reads an analogy test set from r; name is the file's name
// for errors, which name the line. Words are lowercased, as data.Words
// lowercases the text that vectors are trained on (word2vec's
// compute-accuracy uppercases both sides instead). Questions before the
// first section header go to a section named "questions".
func ReadAnalogies(r io.Reader, name string) (*Analogies, error) {
	a := &Analogies{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0:
			continue
		case f[0] == ":":
			if len(f) != 2 {
				return nil, fmt.Errorf("%s:%d: section header %q: want \": name\"", name, line, sc.Text())
			}
			a.Sections = append(a.Sections, f[1])
			continue
		case strings.HasPrefix(f[0], ":") && len(f) == 1:
			a.Sections = append(a.Sections, f[0][1:])
			continue
		case len(f) != 4:
			return nil, fmt.Errorf("%s:%d: %d words, want 4 (a b c d for a : b :: c : d)", name, line, len(f))
		}
		if len(a.Sections) == 0 {
			a.Sections = append(a.Sections, "questions")
		}
		q := Question{Section: len(a.Sections) - 1}
		for i, w := range f {
			q.Words[i] = strings.ToLower(w)
		}
		a.Questions = append(a.Questions, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(a.Questions) == 0 {
		return nil, fmt.Errorf("%s:%d: no analogy questions in the file", name, max(line, 1))
	}
	return a, nil
}

// Score counts the answers to a set of analogy questions.
type Score struct {
	// Correct is how many were answered right, Answered how many could be
	// asked (all four words among the vectors), Skipped how many not.
	Correct, Answered, Skipped int
}

// Accuracy is Correct/Answered, 0 when nothing was answered.
func (s Score) Accuracy() float64 {
	if s.Answered == 0 {
		return 0
	}
	return float64(s.Correct) / float64(s.Answered)
}

func (s *Score) add(o Score) {
	s.Correct += o.Correct
	s.Answered += o.Answered
	s.Skipped += o.Skipped
}

// SectionScore is the Score of one section of an analogy test set.
type SectionScore struct {
	Name string
	Score
}

// AnalogyReport is the result of EvaluateAnalogies.
type AnalogyReport struct {
	Sections []SectionScore
	// Semantic sums the sections whose name does not start with "gram",
	// Syntactic those that do (in questions-words.txt the first five and
	// the last nine, compute-accuracy's split); Overall sums all.
	Semantic, Syntactic, Overall Score
}

// analogyBatch is how many questions share one matrix product.
const analogyBatch = 256

// EvaluateAnalogies answers the questions as word2vec's compute-accuracy
// does: only the first maxVocab words are searched (maxVocab <= 0 keeps
// all), a question with a word outside them is skipped, and the answer to
// a : b :: c : ? is the word whose unit vector has the largest dot product
// with unit(b) - unit(a) + unit(c), a, b and c left out, the more frequent
// (earlier) word winning a tie. A word that appears twice answers with its
// first row; words are compared in lower case.
func EvaluateAnalogies(words []string, dim int, values []float32, qs *Analogies, maxVocab int) (*AnalogyReport, error) {
	if dim < 1 || len(values) != len(words)*dim {
		return nil, fmt.Errorf("vectors hold %d values, want %d words × %d", len(values), len(words), dim)
	}
	v := len(words)
	if maxVocab > 0 {
		v = min(v, maxVocab)
	}
	unit := make([]float32, v*dim)
	ids := make(map[string]int, v)
	for i := range v {
		w := strings.ToLower(words[i])
		if _, dup := ids[w]; !dup {
			ids[w] = i
		}
		row := values[i*dim : (i+1)*dim]
		var n float64
		for _, x := range row {
			n += float64(x) * float64(x)
		}
		if n > 0 {
			inv := float32(1 / math.Sqrt(n))
			for j, x := range row {
				unit[i*dim+j] = x * inv
			}
		}
	}
	rep := &AnalogyReport{Sections: make([]SectionScore, len(qs.Sections))}
	for i, s := range qs.Sections {
		rep.Sections[i].Name = s
	}
	type asked struct {
		q       *Question
		a, b, c int
		d       int
	}
	batch := make([]asked, 0, analogyBatch)
	query := make([]float32, analogyBatch*dim)
	sims := make([]float32, analogyBatch*v)
	answer := func() {
		n := len(batch)
		if n == 0 {
			return
		}
		// sims[n×v] = query[n×dim] · unit[v×dim]ᵀ
		blasImpl.Sgemm(blas.NoTrans, blas.Trans, n, v, dim, 1, query, dim, unit, dim, 0, sims, v)
		for k, q := range batch {
			row := sims[k*v : (k+1)*v]
			best, bestSim := -1, float32(math.Inf(-1))
			for i, s := range row {
				if s > bestSim && i != q.a && i != q.b && i != q.c {
					best, bestSim = i, s
				}
			}
			sc := &rep.Sections[q.q.Section].Score
			sc.Answered++
			if best == q.d {
				sc.Correct++
			}
		}
		batch = batch[:0]
	}
	for qi := range qs.Questions {
		q := &qs.Questions[qi]
		if q.Section < 0 || q.Section >= len(rep.Sections) {
			return nil, fmt.Errorf("question %d: section %d of %d", qi+1, q.Section, len(rep.Sections))
		}
		var id [4]int
		known := true
		for i, w := range q.Words {
			var ok bool
			if id[i], ok = ids[w]; !ok {
				known = false
			}
		}
		if !known {
			rep.Sections[q.Section].Skipped++
			continue
		}
		k := len(batch)
		qv := query[k*dim : (k+1)*dim]
		for j := range qv {
			qv[j] = unit[id[1]*dim+j] - unit[id[0]*dim+j] + unit[id[2]*dim+j]
		}
		batch = append(batch, asked{q: q, a: id[0], b: id[1], c: id[2], d: id[3]})
		if len(batch) == analogyBatch {
			answer()
		}
	}
	answer()
	for _, s := range rep.Sections {
		if strings.HasPrefix(s.Name, "gram") {
			rep.Syntactic.add(s.Score)
		} else {
			rep.Semantic.add(s.Score)
		}
		rep.Overall.add(s.Score)
	}
	return rep, nil
}
