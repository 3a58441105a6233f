// Milliseconds per call of a synchronous fn, timed over a batch of calls at least `batchMs`
// long (doubling the count until it is), so that the timer's own cost does not count. For the
// one-thread scripts that time kernels directly (bench/arithmetic-floor.mjs,
// bench/stagger.mjs); bench/run.mjs batches its tinybench tasks the same way.
export function msPerCall(fn, batchMs) {
  let calls = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) fn();
    const ms = performance.now() - start;
    if (ms >= batchMs) return ms / calls;
    calls *= 2;
  }
}
