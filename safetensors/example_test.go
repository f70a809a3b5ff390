package safetensors_test

import (
	"bytes"
	"fmt"

	"github.com/classify/classify/safetensors"
)

func ExampleWrite() {
	w, err := safetensors.NewF32("dense.weight", []int{1, 3}, []float32{0.5, -1, 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, []safetensors.Tensor{w}, map[string]string{"format": "pt"}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d bytes, header %s\n", buf.Len(), bytes.TrimRight(buf.Bytes()[8:buf.Len()-12], " "))
	// Output:
	// 124 bytes, header {"__metadata__":{"format":"pt"},"dense.weight":{"dtype":"F32","shape":[1,3],"data_offsets":[0,12]}}
}

func ExampleRead() {
	w, _ := safetensors.NewF32("dense.weight", []int{1, 3}, []float32{0.5, -1, 2})
	b, _ := safetensors.NewF32("dense.bias", []int{1}, []float32{0.25})
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, []safetensors.Tensor{w, b}, nil); err != nil {
		fmt.Println(err)
		return
	}
	f, err := safetensors.Read(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Names())
	fmt.Println(f.Float32s("dense.weight", []int{1, 3}))
	fmt.Println(f.Float32s("dense.weight", []int{3}))
	// Output:
	// [dense.bias dense.weight]
	// [0.5 -1 2] <nil>
	// [] tensor "dense.weight" has shape [1 3], want [3]
}
