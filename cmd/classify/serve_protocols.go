package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/classify/classify/models"
)

// predictionLabel is the label name and probability of a prediction, as
// the KServe v2 tensors carry them.
func predictionLabel(p models.Prediction) (string, float32) {
	return p.Label, p.Score
}

// labeler is what a predictor may tell of its labels: *models.Predictor
// does, for the KServe v2 "scores" tensor.
type labeler interface{ Labels() []string }

// predictResponse is the answer of POST /v1/predict and of TF Serving's
// predict, one prediction per text in order.
type predictResponse struct {
	Predictions []models.Prediction `json:"predictions"`
}

// readBody reads a request's body whole, under the size limit, and checks
// that it is UTF-8; else it returns the status and error to answer with.
// A Content-Length over the limit is refused before anything is read.
func (s *server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	limit := s.o.maxBodyBytes
	if r.ContentLength > limit {
		// Close the connection rather than drain a body we refuse.
		w.Header().Set("Connection", "close")
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body of %d bytes is over the limit of %d bytes", r.ContentLength, limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		var netErr net.Error
		switch {
		case errors.As(err, &tooBig):
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body is over the limit of %d bytes", tooBig.Limit)
		case errors.As(err, &netErr) && netErr.Timeout():
			return nil, http.StatusRequestTimeout, fmt.Errorf("the request body did not arrive within --read-timeout %v", s.o.readTimeout)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, http.StatusBadRequest, errors.New("the request body ended before its Content-Length")
		}
		return nil, http.StatusBadRequest, errors.New("could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, http.StatusBadRequest, errors.New("empty body")
	}
	if !utf8.Valid(body) {
		return nil, http.StatusBadRequest, fmt.Errorf("the body is not valid UTF-8 (at byte %d); JSON text must be UTF-8", invalidUTF8At(body))
	}
	return body, 0, nil
}

// invalidUTF8At is the offset of the first byte of b that is not UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// jsonFields reads data as one JSON object and returns its fields,
// refusing a repeated key (encoding/json would keep the last silently), a
// key not in allowed and anything after the object. what names the
// object in errors. Its errors name the JSON, never a Go type.
func jsonFields(data []byte, what string, allowed ...string) (map[string]json.RawMessage, error) {
	if k := jsonKind(data); k != "object" {
		return nil, fmt.Errorf("%s is %s, want a JSON object", what, article(k))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, jsonSyntax(err)
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonSyntax(err)
		}
		key, _ := tok.(string)
		if _, dup := fields[key]; dup {
			return nil, fmt.Errorf("%s has the key %q twice", what, key)
		}
		known := false
		for _, a := range allowed {
			known = known || a == key
		}
		if !known {
			return nil, fmt.Errorf("unknown field %q in %s (it may hold %s)", key, what, quoteList(allowed))
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonSyntax(err)
		}
		fields[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonSyntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, jsonSyntax(err)
		}
		return nil, errors.New("bad JSON body: data after the JSON object")
	}
	return fields, nil
}

// jsonSyntax rewords a JSON decoding error without Go's types.
func jsonSyntax(err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("bad JSON body: %v (at byte %d)", syn, syn.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("bad JSON body: it ends in the middle of a value")
	}
	return errors.New("bad JSON body")
}

// jsonKind names the JSON type of a value: object, array, string,
// number, boolean or null.
func jsonKind(v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func article(kind string) string {
	switch kind {
	case "null", "nothing":
		return kind
	case "object", "array":
		return "an " + kind
	}
	return "a " + kind
}

func quoteList(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += strconv.Quote(n)
	}
	return s
}

// jsonStrings reads v, the field name of a request, as an array of
// strings.
func jsonStrings(v json.RawMessage, name string) ([]string, error) {
	if k := jsonKind(v); k != "array" {
		return nil, fmt.Errorf("%q is %s, want an array of strings", name, article(k))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, jsonSyntax(err)
	}
	out := make([]string, len(items))
	for i, it := range items {
		if k := jsonKind(it); k != "string" {
			return nil, fmt.Errorf("%q[%d] is %s, want a string", name, i, article(k))
		}
		if err := json.Unmarshal(it, &out[i]); err != nil {
			return nil, jsonSyntax(err)
		}
	}
	return out, nil
}

// checkCount refuses an empty request and one over --max-texts.
func (s *server) checkCount(n int, name string) error {
	if n == 0 {
		return fmt.Errorf("%q is empty", name)
	}
	if n > s.o.maxTexts {
		return fmt.Errorf("%d texts is over the limit of %d a request", n, s.o.maxTexts)
	}
	return nil
}

// model returns the model named name ("" for the first), or answers 404
// and returns nil.
func (s *server) model(w http.ResponseWriter, r *http.Request, name string) *servedModel {
	m := s.models.list[0]
	if name != "" {
		m = s.models.get(name)
	}
	if m == nil {
		writeError(w, http.StatusNotFound, "no model %q; this server serves %s", name, quoteList(s.models.names()))
		return nil
	}
	info(r).model = m.name
	return m
}

// score scores texts with m's current version. It answers the error
// itself and returns ok false when it cannot.
func (s *server) score(w http.ResponseWriter, r *http.Request, m *servedModel, texts []string) (*modelVersion, []models.Prediction, bool) {
	info(r).texts = len(texts)
	v := m.cur.Load()
	if v == nil {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "model %s is loading; GET /readyz answers 200 once it is ready", m.name)
		return nil, nil, false
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-r.Context().Done():
		writeError(w, http.StatusServiceUnavailable, "gave up waiting for a free model")
		return nil, nil, false
	}
	preds, err := v.p.Predict(texts)
	if err == nil && len(preds) != len(texts) {
		err = fmt.Errorf("model gave %d predictions for %d texts", len(preds), len(texts))
	}
	if err != nil {
		// The model's error may name files and internals: it goes to the
		// log, the client gets the fact.
		s.log.Error("predict failed", "model", m.name, "version", v.version, "texts", len(texts), "error", err.Error())
		writeError(w, http.StatusInternalServerError, "model %s failed to score the texts (the server log has the details)", m.name)
		return nil, nil, false
	}
	s.metrics.texts.WithLabelValues(m.name).Add(float64(len(texts)))
	s.metrics.batch.WithLabelValues(m.name).Observe(float64(len(texts)))
	return v, preds, true
}

// readRequest reads a request's body, under the size limit, parses it with
// parse and checks the number of texts it holds (count, named what in the
// error) against the limit; on an error it answers it and returns false.
func readRequest[T any](s *server, w http.ResponseWriter, r *http.Request, parse func([]byte) (T, error), count func(T) int, what string) (T, bool) {
	var req T
	body, status, err := s.readBody(w, r)
	if err != nil {
		writeError(w, status, "%v", err)
		return req, false
	}
	if req, err = parse(body); err == nil {
		err = s.checkCount(count(req), what)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return req, false
	}
	return req, true
}

// predict answers POST /v1/predict: {"texts": [...]} -> {"predictions":
// [...]}, with the first model.
func (s *server) predict(w http.ResponseWriter, r *http.Request, _ string) {
	texts, ok := readRequest(s, w, r, v1Texts, func(t []string) int { return len(t) }, "texts")
	if !ok {
		return
	}
	m := s.model(w, r, "")
	if m == nil {
		return
	}
	if _, preds, ok := s.score(w, r, m, texts); ok {
		writeJSON(w, http.StatusOK, predictResponse{Predictions: preds})
	}
}

// v1Texts reads the body of POST /v1/predict.
func v1Texts(body []byte) ([]string, error) {
	f, err := jsonFields(body, `the body (want {"texts": ["...", ...]})`, "texts")
	if err != nil {
		return nil, err
	}
	raw, ok := f["texts"]
	if !ok || jsonKind(raw) == "null" {
		return nil, errors.New(`missing "texts"; want {"texts": ["...", ...]}`)
	}
	return jsonStrings(raw, "texts")
}

// tfPredict answers TF Serving's POST /v1/models/NAME:predict in the row
// format: {"instances": ["text", ...]} or {"instances": [{"text":
// "..."}, ...]} -> {"predictions": [...]}.
func (s *server) tfPredict(w http.ResponseWriter, r *http.Request, name string) {
	m := s.model(w, r, name)
	if m == nil {
		return
	}
	texts, ok := readRequest(s, w, r, tfTexts, func(t []string) int { return len(t) }, "instances")
	if !ok {
		return
	}
	if _, preds, ok := s.score(w, r, m, texts); ok {
		writeJSON(w, http.StatusOK, predictResponse{Predictions: preds})
	}
}

// tfTexts reads the body of TF Serving's predict.
func tfTexts(body []byte) ([]string, error) {
	f, err := jsonFields(body, `the body (want {"instances": ["...", ...]})`, "instances", "signature_name")
	if err != nil {
		return nil, err
	}
	if sig, ok := f["signature_name"]; ok {
		var name string
		if jsonKind(sig) != "string" || json.Unmarshal(sig, &name) != nil || name != "serving_default" {
			return nil, fmt.Errorf(`"signature_name" %s: the one signature is "serving_default"`, sig)
		}
	}
	raw, ok := f["instances"]
	if !ok || jsonKind(raw) == "null" {
		return nil, errors.New(`missing "instances"; want {"instances": ["...", ...]}`)
	}
	if jsonKind(raw) != "array" {
		return nil, fmt.Errorf(`"instances" is %s, want an array`, article(jsonKind(raw)))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, jsonSyntax(err)
	}
	texts := make([]string, len(items))
	for i, it := range items {
		if jsonKind(it) == "object" {
			of, err := jsonFields(it, fmt.Sprintf(`"instances"[%d]`, i), "text")
			if err != nil {
				return nil, err
			}
			if it = of["text"]; it == nil {
				return nil, fmt.Errorf(`"instances"[%d] lacks "text"`, i)
			}
		}
		if k := jsonKind(it); k != "string" {
			return nil, fmt.Errorf(`"instances"[%d] is %s, want a string or {"text": "..."}`, i, article(k))
		}
		if err := json.Unmarshal(it, &texts[i]); err != nil {
			return nil, jsonSyntax(err)
		}
	}
	return texts, nil
}

// tfStatus answers TF Serving's GET /v1/models/NAME.
func (s *server) tfStatus(w http.ResponseWriter, r *http.Request, name string) {
	m := s.model(w, r, name)
	if m == nil {
		return
	}
	type status struct {
		ErrorCode    string `json:"error_code"`
		ErrorMessage string `json:"error_message"`
	}
	type versionStatus struct {
		Version string `json:"version"`
		State   string `json:"state"`
		Status  status `json:"status"`
	}
	vs := versionStatus{Version: "1", State: "LOADING", Status: status{ErrorCode: "OK"}}
	if v := m.cur.Load(); v != nil {
		vs.Version, vs.State = strconv.Itoa(v.version), "AVAILABLE"
	}
	writeJSON(w, http.StatusOK, map[string][]versionStatus{"model_version_status": {vs}})
}

// v2Tensor is a tensor of the Open Inference Protocol's JSON form.
type v2Tensor struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
	Data     any    `json:"data,omitempty"`
}

// v2OutputNames are the output tensors, in order: "scores" only for a
// model that tells its labels.
var v2OutputNames = []string{"label", "score", "scores"}

// v2Outputs are the output tensors for preds: the label names (BYTES),
// their probabilities (FP32) and, when names are known, every label's
// probability in the order of names (FP32, [N, K]; the K names are the
// model metadata's "labels" parameter).
func v2Outputs(preds []models.Prediction, names []string) map[string]v2Tensor {
	labels := make([]string, len(preds))
	scores := make([]float32, len(preds))
	all := make([]float32, 0, len(preds)*len(names))
	for i, p := range preds {
		labels[i], scores[i] = predictionLabel(p)
		if names == nil {
			continue
		}
		byName := map[string]float32{}
		for _, ls := range p.Scores {
			byName[ls.Label] = ls.Score
		}
		for _, n := range names {
			all = append(all, byName[n])
		}
	}
	n := []int{len(preds)}
	out := map[string]v2Tensor{
		"label": {Name: "label", Datatype: "BYTES", Shape: n, Data: labels},
		"score": {Name: "score", Datatype: "FP32", Shape: n, Data: scores},
	}
	if names != nil {
		out["scores"] = v2Tensor{Name: "scores", Datatype: "FP32", Shape: []int{len(preds), len(names)}, Data: all}
	}
	return out
}

// labelsOf is the labels of v's model, or nil when it does not tell them.
func labelsOf(v *modelVersion) []string {
	if l, ok := v.p.(labeler); ok {
		return l.Labels()
	}
	return nil
}

func (s *server) v2Server(w http.ResponseWriter, r *http.Request, _ string) {
	writeJSON(w, http.StatusOK, map[string]any{"name": "classify", "version": buildVersion(), "extensions": []string{}})
}

func (s *server) v2Live(w http.ResponseWriter, r *http.Request, _ string) {
	writeJSON(w, http.StatusOK, map[string]bool{"live": true})
}

func (s *server) v2Ready(w http.ResponseWriter, r *http.Request, _ string) {
	status := http.StatusOK
	if !s.models.ready() {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]bool{"ready": status == http.StatusOK})
}

func (s *server) v2ModelReady(w http.ResponseWriter, r *http.Request, name string) {
	m := s.model(w, r, name)
	if m == nil {
		return
	}
	ready := m.cur.Load() != nil
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"name": m.name, "ready": ready})
}

// v2Model answers GET /v2/models/NAME: the model's versions and tensors.
func (s *server) v2Model(w http.ResponseWriter, r *http.Request, name string) {
	m := s.model(w, r, name)
	if m == nil {
		return
	}
	versions := []string{}
	var labels []string
	if v := m.cur.Load(); v != nil {
		versions = append(versions, strconv.Itoa(v.version))
		labels = labelsOf(v)
	}
	outputs := v2Outputs(nil, labels)
	meta := map[string]any{
		"name":     m.name,
		"versions": versions,
		"platform": "classify",
		"inputs":   []v2Tensor{{Name: "text", Datatype: "BYTES", Shape: []int{-1}}},
	}
	if labels != nil {
		meta["parameters"] = map[string]any{"labels": labels}
	}
	var outs []v2Tensor
	for _, n := range v2OutputNames {
		t, ok := outputs[n]
		if !ok {
			continue
		}
		t.Shape, t.Data = []int{-1}, nil
		if n == "scores" {
			t.Shape = []int{-1, len(labels)}
		}
		outs = append(outs, t)
	}
	meta["outputs"] = outs
	writeJSON(w, http.StatusOK, meta)
}

// v2Infer answers POST /v2/models/NAME/infer: one BYTES input tensor of
// texts, shape [N] or [N, 1], its data flat or nested by row.
func (s *server) v2Infer(w http.ResponseWriter, r *http.Request, name string) {
	m := s.model(w, r, name)
	if m == nil {
		return
	}
	req, ok := readRequest(s, w, r, v2ReadInfer, func(q v2Request) int { return len(q.texts) }, "inputs")
	if !ok {
		return
	}
	v, preds, ok := s.score(w, r, m, req.texts)
	if !ok {
		return
	}
	all := v2Outputs(preds, labelsOf(v))
	var outs []v2Tensor
	for _, n := range req.outputs {
		if t, ok := all[n]; ok {
			outs = append(outs, t)
		} else if !req.asked {
			continue
		} else {
			writeError(w, http.StatusBadRequest, "model %s has no output %q: it does not tell its labels", m.name, n)
			return
		}
	}
	resp := map[string]any{"model_name": m.name, "model_version": strconv.Itoa(v.version), "outputs": outs}
	if req.id != "" {
		resp["id"] = req.id
	}
	writeJSON(w, http.StatusOK, resp)
}

// v2Request is what an infer request asks.
type v2Request struct {
	id      string
	texts   []string
	outputs []string // the tensors to answer with, in order
	asked   bool     // outputs came from the request
}

// v2ReadInfer reads the body of an infer request.
func v2ReadInfer(body []byte) (v2Request, error) {
	var req v2Request
	f, err := jsonFields(body, "the infer request", "id", "parameters", "inputs", "outputs")
	if err != nil {
		return req, err
	}
	if id, ok := f["id"]; ok {
		if jsonKind(id) != "string" {
			return req, fmt.Errorf(`"id" is %s, want a string`, article(jsonKind(id)))
		}
		json.Unmarshal(id, &req.id)
	}
	if p, ok := f["parameters"]; ok && jsonKind(p) != "object" {
		return req, fmt.Errorf(`"parameters" is %s, want an object`, article(jsonKind(p)))
	}
	var inputs []json.RawMessage
	if raw := f["inputs"]; jsonKind(raw) != "array" || json.Unmarshal(raw, &inputs) != nil || len(inputs) != 1 {
		return req, errors.New(`"inputs" must be an array of one tensor: [{"name": "text", "datatype": "BYTES", "shape": [N], "data": ["...", ...]}]`)
	}
	t, err := jsonFields(inputs[0], `"inputs"[0]`, "name", "datatype", "shape", "data", "parameters")
	if err != nil {
		return req, err
	}
	var datatype string
	if json.Unmarshal(t["datatype"], &datatype) != nil || datatype != "BYTES" {
		return req, fmt.Errorf(`"inputs"[0] has datatype %s, want "BYTES" (the texts)`, orMissing(t["datatype"]))
	}
	var shape []int
	if json.Unmarshal(t["shape"], &shape) != nil || len(shape) == 0 || len(shape) > 2 || len(shape) == 2 && shape[1] != 1 {
		return req, fmt.Errorf(`"inputs"[0] has shape %s, want [N] or [N, 1]`, orMissing(t["shape"]))
	}
	texts, err := v2Flatten(t["data"], 0)
	if err != nil {
		return req, err
	}
	if shape[0] != len(texts) {
		return req, fmt.Errorf(`"inputs"[0] has shape %v but %d texts in "data"`, shape, len(texts))
	}
	req.texts = texts
	req.outputs = v2OutputNames
	if raw, ok := f["outputs"]; ok {
		var outs []json.RawMessage
		if jsonKind(raw) != "array" || json.Unmarshal(raw, &outs) != nil {
			return req, errors.New(`"outputs" must be an array of {"name": ...}`)
		}
		req.outputs, req.asked = nil, true
		for i, o := range outs {
			of, err := jsonFields(o, fmt.Sprintf(`"outputs"[%d]`, i), "name", "parameters")
			if err != nil {
				return req, err
			}
			var n string
			json.Unmarshal(of["name"], &n)
			if !slices.Contains(v2OutputNames, n) {
				return req, fmt.Errorf(`"outputs"[%d] asks for %s; the outputs are %s`, i, orMissing(of["name"]), quoteList(v2OutputNames))
			}
			req.outputs = append(req.outputs, n)
		}
	}
	return req, nil
}

// v2Flatten reads a tensor's data, an array of strings, nested by row or
// flat, in row-major order.
func v2Flatten(raw json.RawMessage, depth int) ([]string, error) {
	if jsonKind(raw) != "array" {
		return nil, fmt.Errorf(`"inputs"[0] has data %s, want an array of strings`, orMissing(raw))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, jsonSyntax(err)
	}
	var out []string
	for i, it := range items {
		switch k := jsonKind(it); {
		case k == "string":
			var s string
			json.Unmarshal(it, &s)
			out = append(out, s)
		case k == "array" && depth == 0:
			inner, err := v2Flatten(it, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
		default:
			return nil, fmt.Errorf(`"inputs"[0].data[%d] is %s, want a string`, i, article(k))
		}
	}
	return out, nil
}

// orMissing shows a JSON value in an error, or says it is missing.
func orMissing(v json.RawMessage) string {
	if v == nil {
		return "missing"
	}
	if len(v) > 40 {
		return string(v[:40]) + "..."
	}
	return string(v)
}
