/**
 * JMH microbenchmarks of jgrad's kernels: matrix products, elementwise ops, reductions, softmax
 * with cross-entropy, convolution and optimizer steps. Run them with {@code bench/jmh.sh}
 * (arguments go to JMH, e.g. a name pattern: {@code bench/jmh.sh MatMul}). Times are per call.
 */
package io.jgrad.benchmarks.jmh;
