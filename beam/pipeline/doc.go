// Package pipeline builds classify's batch prediction and evaluation as
// Apache Beam pipelines, so that one program scores a corpus on the local
// runner (prism) or on Flink, Spark or Google Cloud Dataflow.
//
// Predict reads texts, scores them in batches with a models.Predictor that
// each worker loads once, in its DoFn's Setup, and writes one JSON object
// per line, as `classify predict --json` does, to sharded files. Eval scores
// labelled examples and combines what `classify eval` reports across
// workers with a CombineFn (MetricsFn): counts and the confusion matrix are
// summed, the loss too, and the ROC AUC is exact up to a number of examples
// and then comes from merged score histograms.
//
// Files are read and written through Beam's file systems (local paths,
// gs:// and the others the program links in), checkpoints too: see
// LoadPredictor.
//
// The Beam runners of other machines rebuild the DoFns from their names:
// call Register before beam.Init.
package pipeline
