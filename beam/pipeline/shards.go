package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
)

// ShardName is the name of shard i of n written under prefix, as Beam's
// other SDKs name them: prefix-00001-of-00004.jsonl.
func ShardName(prefix, suffix string, i, n int) string {
	return fmt.Sprintf("%s-%05d-of-%05d%s", prefix, i, n, suffix)
}

// writeShards writes the lines to n files named by ShardName, a line to the
// shard its hash picks. A shard is written under a temporary name and
// renamed when complete, so that a failed or retried worker leaves no
// half-written shard under the final name. A shard that no line hashes to
// is written empty by no one: it is absent.
func writeShards(s beam.Scope, prefix, suffix string, n int, lines beam.PCollection) {
	s = s.Scope("writeShards")
	keyed := beam.ParDo(s, &shardKeyFn{Shards: n}, lines)
	beam.ParDo0(s, &writeShardFn{Prefix: prefix, Suffix: suffix, Shards: n}, beam.GroupByKey(s, keyed))
}

type shardKeyFn struct {
	Shards int
}

func (f *shardKeyFn) ProcessElement(line string) (int, string) {
	h := fnv.New32a()
	h.Write([]byte(line))
	return int(h.Sum32() % uint32(f.Shards)), line
}

type writeShardFn struct {
	Prefix, Suffix string
	Shards         int
}

func (f *writeShardFn) ProcessElement(ctx context.Context, shard int, lines func(*string) bool) (err error) {
	name := ShardName(f.Prefix, f.Suffix, shard, f.Shards)
	tmp := name + ".tmp"
	fsys, err := filesystem.New(ctx, name)
	if err != nil {
		return err
	}
	defer fsys.Close()
	w, err := fsys.OpenWrite(ctx, tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var line string
	for lines(&line) {
		bw.WriteString(line)
		if err := bw.WriteByte('\n'); err != nil {
			w.Close()
			return fmt.Errorf("%s: %w", tmp, err)
		}
	}
	if err := bw.Flush(); err != nil {
		w.Close()
		return fmt.Errorf("%s: %w", tmp, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: %w", tmp, err)
	}
	return filesystem.Rename(ctx, fsys, tmp, name)
}
