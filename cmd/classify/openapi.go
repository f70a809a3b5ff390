package main

import (
	"strings"
)

// openAPIDocument is the OpenAPI 3.1 description of routes, served at GET
// /openapi.json. It is built from the same table that routes requests,
// so that the two cannot drift apart; models are the names the {model}
// parameter takes.
func openAPIDocument(routes []route, models []string) map[string]any {
	paths := map[string]any{}
	for _, rt := range routes {
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": operationID(rt),
		}
		if strings.Contains(rt.path, "{model}") {
			op["parameters"] = []any{map[string]any{
				"name": "model", "in": "path", "required": true,
				"description": "a model's name, as --checkpoint NAME=DIR gave it",
				"schema":      map[string]any{"type": "string", "enum": models},
			}}
		}
		if rt.request != "" {
			op["requestBody"] = map[string]any{
				"required": true,
				"content":  map[string]any{"application/json": map[string]any{"schema": ref(rt.request)}},
			}
		}
		ok := map[string]any{"description": "OK"}
		switch {
		case rt.response != "":
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": ref(rt.response)}}
		case rt.path == "/metrics":
			ok["content"] = map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}
		case rt.path == "/openapi.json":
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		}
		errResp := map[string]any{"description": "an error", "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
		responses := map[string]any{"200": ok}
		if rt.request != "" {
			responses["400"], responses["413"], responses["500"] = errResp, errResp, errResp
		}
		if strings.Contains(rt.path, "{model}") {
			responses["404"] = errResp
		}
		if rt.request != "" || strings.Contains(rt.path, "ready") {
			responses["503"] = errResp
		}
		op["responses"] = responses
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "classify serve",
			"version":     buildVersion(),
			"description": "Text classification: classify's own API, TF Serving's REST API and the KServe v2 Open Inference Protocol.",
		},
		"paths":      paths,
		"components": map[string]any{"schemas": openAPIComponents()},
	}
}

func operationID(rt route) string {
	r := strings.NewReplacer("/", "_", "{", "", "}", "", ":", "_", ".", "_")
	return strings.ToLower(rt.method) + strings.TrimRight(r.Replace(rt.path), "_")
}

func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// openAPIComponents are the JSON Schemas of the request and answer bodies.
func openAPIComponents() map[string]any {
	str := map[string]any{"type": "string"}
	strs := map[string]any{"type": "array", "items": str, "minItems": 1}
	num := map[string]any{"type": "number", "minimum": 0, "maximum": 1}
	obj := func(required []string, props map[string]any) map[string]any {
		o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			o["required"] = required
		}
		return o
	}
	tensor := obj([]string{"name", "datatype", "shape"}, map[string]any{
		"name": str, "datatype": str,
		"shape":      map[string]any{"type": "array", "items": map[string]any{"type": "integer"}},
		"data":       map[string]any{"type": "array"},
		"parameters": map[string]any{"type": "object"},
	})
	return map[string]any{
		"Error":  obj([]string{"error"}, map[string]any{"error": str}),
		"Status": obj([]string{"status"}, map[string]any{"status": str}),
		"Prediction": map[string]any{
			"type":        "object",
			"description": "one text's prediction, as classify predict --json prints it without \"text\"",
			"properties": map[string]any{
				"label":  map[string]any{"description": "the predicted label"},
				"score":  num,
				"scores": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{"label": str, "score": num}}},
			},
		},
		"PredictRequest":  obj([]string{"texts"}, map[string]any{"texts": strs}),
		"PredictResponse": obj([]string{"predictions"}, map[string]any{"predictions": map[string]any{"type": "array", "items": ref("Prediction")}}),
		"TFPredictRequest": obj([]string{"instances"}, map[string]any{
			"signature_name": map[string]any{"const": "serving_default"},
			"instances": map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"oneOf": []any{
				str, obj([]string{"text"}, map[string]any{"text": str}),
			}}},
		}),
		"TFModelStatus": map[string]any{"type": "object", "properties": map[string]any{
			"model_version_status": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
		}},
		"V2ServerMetadata": map[string]any{"type": "object", "properties": map[string]any{"name": str, "version": str, "extensions": map[string]any{"type": "array", "items": str}}},
		"V2Ready":          map[string]any{"type": "object", "properties": map[string]any{"ready": map[string]any{"type": "boolean"}, "live": map[string]any{"type": "boolean"}, "name": str}},
		"V2Tensor":         tensor,
		"V2ModelMetadata": map[string]any{"type": "object", "properties": map[string]any{
			"name": str, "platform": str, "versions": map[string]any{"type": "array", "items": str},
			"inputs":  map[string]any{"type": "array", "items": ref("V2Tensor")},
			"outputs": map[string]any{"type": "array", "items": ref("V2Tensor")},
		}},
		"V2InferRequest": obj([]string{"inputs"}, map[string]any{
			"id": str, "parameters": map[string]any{"type": "object"},
			"inputs":  map[string]any{"type": "array", "minItems": 1, "maxItems": 1, "items": ref("V2Tensor")},
			"outputs": map[string]any{"type": "array", "items": obj([]string{"name"}, map[string]any{"name": map[string]any{"enum": v2OutputNames}, "parameters": map[string]any{"type": "object"}})},
		}),
		"V2InferResponse": map[string]any{"type": "object", "properties": map[string]any{
			"model_name": str, "model_version": str, "id": str,
			"outputs": map[string]any{"type": "array", "items": ref("V2Tensor")},
		}},
	}
}
