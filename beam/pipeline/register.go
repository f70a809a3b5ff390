package pipeline

import (
	"context"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// Register makes the pipeline's DoFns, CombineFn and element types known
// to Beam by name, with generated (not reflective) calls. A Beam program
// calls it before beam.Init: the workers of Flink, Spark or Dataflow run
// the same binary and find the functions of the pipeline they are sent by
// those names. (Beam's own examples do this in init functions; here the
// program says when.)
func Register() {
	beam.RegisterType(reflect.TypeOf((*Labelled)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Scored)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Accumulator)(nil)).Elem())
	register.DoFn3x1[context.Context, fileio.ReadableFile, func(Labelled), error](&readExamplesFn{})
	register.Function1x1(exampleText)
	register.DoFn2x1[string, func(string), error](&predictFn{})
	register.DoFn2x1[Labelled, func(Scored), error](&scoreFn{})
	register.DoFn1x2[string, int, string](&shardKeyFn{})
	register.DoFn3x1[context.Context, int, func(*string) bool, error](&writeShardFn{})
	register.Combiner3[Accumulator, Scored, string](&MetricsFn{})
	register.Emitter1[string]()
	register.Emitter1[Scored]()
	register.Emitter1[Labelled]()
	register.Iter1[string]()
}
