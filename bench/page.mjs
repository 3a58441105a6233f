// docs/performance.md, rendered from the object bench/run.mjs writes to
// bench/results/latest.json. Everything on the page comes from that object (its env carries
// the date, the machine and the command line), so the same JSON always renders the same
// page: test/generated.test.ts re-renders the committed JSON and compares.
//
//   node bench/page.mjs    renders the page again from the committed latest.json (after a
//                          change to this renderer; npm run bench renders it from its run)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generatedHeader, markdownTable } from '../scripts/generated.mjs';

// Every table of the page: the first two columns name a row, the rest are numbers.
const table = (head, rows) => markdownTable(head, rows, 2);

export const PERFORMANCE_PAGE = new URL('../docs/performance.md', import.meta.url);
const LATEST = new URL('results/latest.json', import.meta.url);

// Rows that are ours or an anchor; every other implementation in `impls` is a peer.
const NOT_PEERS = new Set(['ours', 'kernel', 'copy', 'floor']);

/** The thread counts of the threads axis (none in runs from before it). */
function threadCounts(latest) {
  return latest.threads ?? [];
}

export function fmtTime(ms) {
  if (ms === undefined) return '—';
  const us = ms * 1000;
  if (us < 10) return `${us.toFixed(2)} µs`;
  if (us < 1000) return `${us.toPrecision(3)} µs`;
  if (us < 1e6) return `${(us / 1000).toPrecision(3)} ms`;
  return `${(us / 1e6).toPrecision(3)} s`;
}

export function fmtRatio(x) {
  if (!Number.isFinite(x)) return '—';
  return x >= 100 ? `${x.toFixed(0)}×` : x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`;
}

/** The operations in the order bench/run.mjs measures them. */
export function operations(latest) {
  return Object.keys(latest.traffic);
}

export function peers(latest) {
  const ours = new Set([...NOT_PEERS, 'floor-1t', ...threadCounts(latest).flatMap((n) => [`ours-${n}t`, `floor-${n}t`])]);
  return Object.keys(latest.impls).filter((impl) => !ours.has(impl));
}

function speedTable(latest) {
  const head = ['workload', 'op', 'batchnorm-wasm', 'GB/s', '× copy', '× floor', ...peers(latest).map((p) => `vs ${p}`)];
  const rows = latest.workloads.flatMap((w) => operations(latest).flatMap((op) => {
    const o = w.ops[op]?.ours;
    if (!o) return [];
    return [[w.label, op, fmtTime(o.ms), o.gbps.toFixed(1), fmtRatio(o.vsCopy), fmtRatio(o.vsFloor),
      ...peers(latest).map((p) => fmtRatio(o.speedup[p]))]];
  }));
  return table(head, rows);
}

function timesTable(latest, results) {
  const measured = new Set(results.flatMap((w) => Object.values(w.ops).flatMap((row) => Object.keys(row))));
  const cols = ['copy', 'ours', ...Object.keys(latest.impls).filter((i) => i !== 'ours' && i !== 'copy' && measured.has(i))];
  const rows = results.flatMap((w) => operations(latest).filter((op) => w.ops[op]).map((op) =>
    [w.label, op, ...cols.map((c) => fmtTime(c === 'copy' ? w.ops.copy.copy.ms : w.ops[op][c]?.ms))]));
  return table(['workload', 'op', ...cols], rows);
}

/** The floor's one-thread time for its speed-up: on the same shared-memory build as its split rows where measured. */
export function floorOnOneThread(row) {
  return row['floor-1t'] ?? row.floor;
}

/**
 * The threads axis: per workload and op, one thread and each thread count, each with its
 * time over its own floor (the same sweeps split across as many threads), the speed-up over
 * one thread, and the floor's speed-up: where the floor stops scaling, memory bandwidth does.
 */
export function threadsSection(latest) {
  const counts = threadCounts(latest);
  const lines = ['## Threads', ''];
  if (counts.length === 0) {
    lines.push('Not measured by this run: it had no threads axis.');
    return lines;
  }
  const head = ['workload', 'op', '1 thread', '× floor', ...counts.flatMap((n) => [`${n} threads`, '× floor', 'speed-up', 'floor\'s speed-up'])];
  const rows = latest.workloads.flatMap((w) => operations(latest).flatMap((op) => {
    const row = w.ops[op];
    if (!row?.ours) return [];
    return [[w.label, op, fmtTime(row.ours.ms), fmtRatio(row.ours.vsFloor), ...counts.flatMap((n) => {
      const ours = row[`ours-${n}t`], floor = row[`floor-${n}t`];
      return [fmtTime(ours?.ms), fmtRatio(ours?.vsFloor), fmtRatio(row.ours.ms / ours?.ms), fmtRatio(floorOnOneThread(row)?.ms / floor?.ms)];
    })]];
  }));
  lines.push(
    `The layer on the simd-threads build with ${counts.join(', ')} threads (\`init({ threads })\`), and the floor split the same ` +
      'way: each thread sweeps a contiguous share of the rows the kernels\' elementwise passes split, and every thread finishes a ' +
      'sweep before the next starts. × floor is each time over the floor on as many threads; speed-up is the one-thread time over ' +
      'the N-thread time, for ours and for the floor (whose one-thread time is floor-1t, the same shared-memory build on one ' +
      'thread, where the run has it). Ops on fewer values than the split threshold run on one thread, and so does their floor.',
    '',
    table(head, rows),
  );
  if (latest.workloads.length > 0) lines.push('', '![Speed-up over one thread, ours and the floor\'s](performance/scaling.svg)');
  if (counts.includes(2)) lines.push('', ...threadsTargets(latest));
  return lines;
}

// Issue 17's targets for 2 threads: on this shape forward-train, forward-eval and backward
// at least 1.4× faster than one thread; every workload's op ahead of PyTorch with 2 threads;
// none slower than on one thread. A row is slower only where the 2-thread time is above the
// 1-thread time in every round: the rounds alternate the two, so a ratio of best times just
// under 1 with rounds on both sides of it is the machine's noise, not a verdict.
const THREADS_TARGET_SHAPE = 'nchw-32x64x56x56';
const THREADS_TARGET_OPS = ['forward-train', 'forward-eval', 'backward'];
const THREADS_TARGET_SPEEDUP = 1.4;

/** Whether the 2-thread rows meet issue 17's targets, each with the figures that decide it. */
export function threadsTargets(latest) {
  const rows = latest.workloads.flatMap((w) => operations(latest).flatMap((op) => {
    const row = w.ops[op];
    const two = row?.['ours-2t'];
    if (!row?.ours || !two) return [];
    const roundsOf = (m) => m.rounds ?? [m.ms];
    const twoRounds = roundsOf(two);
    const rounds = roundsOf(row.ours).map((one, i) => one / twoRounds[i]);
    const torch = row['torch-2'];
    // PyTorch is timed in the same rounds (bench/torch.mjs): its time over ours, round by round.
    const torchRounds = torch ? roundsOf(torch).map((t, i) => t / twoRounds[i]) : [];
    return [{ w, op, one: row.ours.ms, two: two.ms, torch: torch?.ms, rounds, torchRounds }];
  }));
  const met = (ok) => (ok ? 'met' : 'not met');
  const headline = THREADS_TARGET_OPS.map((op) => rows.find((r) => r.w.id === THREADS_TARGET_SHAPE && r.op === op));
  const speedups = headline.map((r, i) => `${THREADS_TARGET_OPS[i]} ${r ? fmtRatio(r.one / r.two) : 'not measured'}`);
  const headlineMet = headline.every((r) => r && r.one / r.two >= THREADS_TARGET_SPEEDUP);
  const withTorch = rows.filter((r) => r.torch !== undefined);
  const behind = withTorch.filter((r) => r.torch <= r.two);
  const behindEvery = behind.filter((r) => r.torchRounds.every((ratio) => ratio <= 1));
  const slower = rows.filter((r) => r.rounds.every((ratio) => ratio < 1));
  const unclear = rows.filter((r) => r.two > r.one && !slower.includes(r));
  const byRound = (r, ratio, rounds) => `${r.w.label} ${r.op} (${fmtRatio(ratio)}; by round ${rounds.map(fmtRatio).join(', ')})`;
  const withRounds = (r) => byRound(r, r.one / r.two, r.rounds);
  const noise = unclear.length === 0 ? '' : `; under 1 at best times but faster with threads in some round: ${unclear.map(withRounds).join(', ')}`;
  return [
    `Targets (issue 17), on 2 threads: [${THREADS_TARGET_SHAPE.slice(5).split('x').join(',')}] at least ` +
      `${THREADS_TARGET_SPEEDUP}× faster than one thread: ${speedups.join(', ')}, ${met(headlineMet)}; ahead of PyTorch with ` +
      `2 threads on every workload and op: ${withTorch.length === 0 ? 'not measured (no PyTorch times)' : behind.length === 0
        ? `ahead on all ${withTorch.length}, met`
        : `behind at best times on ${behind.map((r) => byRound(r, r.torch / r.two, r.torchRounds)).join(', ')} ` +
          `(PyTorch's time over ours), not met; behind in every round: ${behindEvery.length === 0 ? 'none' : behindEvery.map((r) => `${r.w.label} ${r.op}`).join(', ')}`}; ` +
      `no workload slower with threads in every round: ${slower.length === 0 ? `none slower, met${noise}` : `slower: ${slower.map(withRounds).join(', ')} (speed-up), not met${noise}`}.`,
  ];
}

/**
 * Per layout and op, the smallest size from which the split runs faster than one thread at
 * that size and every larger one measured; null where the largest size is not faster split.
 */
export function splitCrossover(rows, layout, op) {
  const sizes = rows.filter((r) => r.layout === layout && r.op === op).sort((a, b) => a.values - b.values);
  let from = null;
  for (let i = sizes.length - 1; i >= 0 && sizes[i].split.ms < sizes[i].one.ms; i--) from = sizes[i].values;
  return from;
}

const count = (n) => n.toLocaleString('en-US');

/** The split threshold section: one thread against the split per size, and where splitting starts to pay. */
export function splitSection(split) {
  const lines = ['## The split threshold', ''];
  if (!split) {
    lines.push('Not measured by this run: full and `--quick` runs measure it, and `--only` runs that name `split-threshold`.');
    return lines;
  }
  const layouts = [...new Set(split.rows.map((r) => r.layout))];
  const ops = [...new Set(split.rows.map((r) => r.op))];
  const keys = [...new Set(split.rows.map((r) => `${r.layout} ${r.values}`))];
  const rows = keys.map((key) => {
    const same = split.rows.filter((r) => `${r.layout} ${r.values}` === key);
    return [`${same[0].layout} [${same[0].shape.join(', ')}]`, count(same[0].values), ...ops.map((op) => {
      const r = same.find((candidate) => candidate.op === op);
      return r ? `${fmtRatio(r.one.ms / r.split.ms)} (${fmtTime(r.one.ms)} → ${fmtTime(r.split.ms)})` : '—';
    })];
  });
  const crossovers = layouts.map((layout) => `${layout} ${ops.map((op) => {
    const from = splitCrossover(split.rows, layout, op);
    return `${op} ${from === null ? 'never' : `from ${count(from)}`}`;
  }).join(', ')}`);
  const all = layouts.flatMap((layout) => ops.map((op) => splitCrossover(split.rows, layout, op)));
  const largest = Math.max(...split.rows.map((r) => r.values));
  const verdict = all.includes(null)
    ? `Some ops are not faster on ${split.threads} threads even at ${count(largest)} values`
    : `Every op on every layout measured is faster on ${split.threads} threads from ${count(Math.max(...all))} values on`;
  lines.push(
    `Each op on the kernels directly (the calls the layer makes), on the calling thread alone and split across ${split.threads} ` +
      'threads of a pool, timed interleaved, best of the rounds. Each cell is the one-thread time over the split time ' +
      '(above 1× the split is faster), then both times.',
    '',
    table(['shape', 'values', ...ops], rows),
    '',
    `Where splitting pays (the split is faster at that size and at every larger size measured): ${crossovers.join('; ')}. ` +
      `${verdict}. \`MIN_SPLIT_VALUES\` (\`src/threads.ts\`), below which an op runs on the calling thread alone, is ` +
      `${count(split.minSplitValues)}. On a shared machine the ratios near 1× move from run to run: read the crossover from a ` +
      'run on a quiet machine.',
  );
  return lines;
}

// Issue 15's targets, on this shape and tfjs's wasm backend: a train step at least 20×
// faster than tf.layers.batchNormalization's, inference no slower.
const TFJS_TARGET_SHAPE = [32, 56, 56, 64];
const TFJS_TARGETS = [
  { backend: 'wasm', op: 'train step', speedup: 20, words: 'at least 20× faster than tfjs\'s layer' },
  { backend: 'wasm', op: 'inference', speedup: 1, words: 'no slower than tfjs\'s layer' },
];

/** BN's share of an epoch from its times without and with BN; below zero only by noise (separate epochs), shown as 0%. */
export function bnShare(without, withBn) {
  return `${Math.max(0, 100 * (1 - without / withBn)).toFixed(0)}%`;
}

/**
 * The TensorFlow.js section: `latest.tfjs` as bench/tfjs-layer.mjs measured it (layer rows
 * and end-to-end epochs), or a line saying this run left it out.
 */
export function tfjsSection(tfjs) {
  const lines = ['## TensorFlow.js: batchnorm-wasm/tfjs against tf.layers.batchNormalization', ''];
  if (!tfjs) {
    lines.push('Not measured by this run: `--quick` and `--only` runs leave these rows out; a full `npm run bench` measures them.');
    return lines;
  }
  const copies = { 'train step': 'x in, y out, dy in, dx out', inference: 'x in, y out' };
  lines.push(
    `The layer as a tfjs user calls it (\`bench/tfjs-layer.mjs\`), TensorFlow.js ${tfjs.version}, on [${tfjs.shape.join(', ')}] NHWC, ` +
      `axis -1; every time is the median of ${tfjs.samples} call${tfjs.samples === 1 ? '' : 's'} after a warm-up call.`,
    '',
    table(['backend', 'op', 'tfjs layer', 'batchnorm-wasm/tfjs', 'speedup', 'ours: kernels alone', 'ours: copies', 'copies / ours'],
      tfjs.layer.map((r) => [r.backend, r.op, fmtTime(r.tfjsMs), fmtTime(r.oursMs), fmtRatio(r.tfjsMs / r.oursMs), fmtTime(r.kernelMs),
        fmtTime(r.copiesMs), `${(100 * r.copiesMs / r.oursMs).toFixed(0)}%`])),
    '',
    '- **train step**: a training forward and tfjs\'s backward for the input, gamma and beta (`tf.engine().gradients` with dy given), ' +
      'as `model.fit` runs it for each BN layer; **inference**: `apply()` with `training: false`.',
    '- **kernels alone**: the package\'s own BatchNorm2d (channels-last) doing the same work on tensors already in wasm memory.',
    `- **copies**: the copies between tfjs and wasm memory the call makes, each timed alone (train step: ${copies['train step']}; ` +
      `inference: ${copies.inference}); copies / ours is their time over the layer's.`,
    '',
    tfjs.shape.join() !== TFJS_TARGET_SHAPE.join()
      ? `Issue 15's targets are set on [${TFJS_TARGET_SHAPE.join(', ')}]; this run did not measure that shape.`
      : `Targets (issue 15), on tfjs's wasm backend: ${TFJS_TARGETS.map((t) => {
      const r = tfjs.layer.find((row) => row.backend === t.backend && row.op === t.op);
      if (!r) return `${t.op} ${t.words}: not measured`;
      const speedup = r.tfjsMs / r.oursMs;
      return `${t.op} ${t.words}: ${fmtRatio(speedup)}, ${speedup >= t.speedup ? 'met' : 'not met'}`;
    }).join('; ')}.`,
  );
  if (tfjs.epochs.length > 0) {
    const e0 = tfjs.epochs[0];
    lines.push(
      '',
      '### End to end: one training epoch',
      '',
      `One epoch (\`model.fit\`, batch 32) of an \`experiments/tfjs-cnn.mjs\` network on ${e0.digits} MNIST digits with tfjs's ` +
        `BatchNormalization, ours and none; each time is the median of ${e0.rounds} interleaved round${e0.rounds === 1 ? '' : 's'} ` +
        'after a warm-up. tfjs\'s wasm backend cannot train a convolution (it has no `Conv2DBackpropFilter`), so it runs the pointwise ' +
        'network. BN\'s share = 1 − epoch time without BN / with it (0% where noise puts it below zero).',
      '',
      table(['backend', 'network', 'tfjs BN', 'batchnorm-wasm/tfjs', 'no BN', 'speedup', 'BN\'s share, tfjs', 'BN\'s share, ours'],
        tfjs.epochs.map((e) => {
          const s = e.seconds;
          return [e.backend, e.network, fmtTime(1000 * s.tfjs), fmtTime(1000 * s.ours), fmtTime(1000 * s.none), fmtRatio(s.tfjs / s.ours),
            bnShare(s.none, s.tfjs), bnShare(s.none, s.ours)];
        })),
    );
  }
  return lines;
}

/** The page as Markdown, from `latest` alone: the header, then the tables (bench/run.mjs prints the same page). */
export function renderPerformancePage(latest) {
  const { env } = latest;
  const info = { cpu: env.cpu ?? 'unknown', cores: env.cpus, caches: env.caches ?? 'unknown', node: env.node, platform: env.platform };
  const lines = [
    generatedHeader({ title: 'Performance', command: env.command, date: new Date(env.date), info }),
    `${env.simd ? 'SIMD' : 'Scalar'} build. Every time is the median of tinybench samples; batchnorm-wasm, copy and ` +
      `floor keep the best of ${env.config.rounds} interleaved round${env.config.rounds === 1 ? '' : 's'}. ` +
      `Load average at the end: ${env.loadavg.map((l) => l.toFixed(2)).join(', ')}.` +
      (env.quick ? ' This is a `--quick` run: few samples, some slow peers left out; read it as a smoke test.' : ''),
    '',
    'Speedup = peer time / batchnorm-wasm time; × copy = our time / wasm `memory.copy` of the input\'s bytes ' +
      '(the physical limit); × floor = our time / the memory sweeps the operation must make, timed without ' +
      `arithmetic (\`bench/floors.ts\`). GB/s counts the bytes the operation must move (${operations(latest)
        .map((op) => `${op} ${latest.traffic[op]}×`).join(', ')} the input). Compare ratios within one run: ` +
      'absolute times move by 10–30% between runs on a shared machine. Where an input fits in cache, arithmetic ' +
      'rather than memory can set the pace: `npm run bench:arithmetic` times the least arithmetic each op must do ' +
      '(`bench/arithmetic.ts`) against the same floor.',
    '',
    speedTable(latest),
    '',
    '## Median time per call',
    '',
    timesTable(latest, latest.workloads),
  ];
  if (latest.sweep.length > 0) {
    lines.push('', '## Size sweep (BatchNorm1d [10, 10, L]), median time per call', '', timesTable(latest, latest.sweep));
    if (latest.sweep.length > 1) lines.push('', '![Time per call against size](performance/sweep.svg)');
  }
  lines.push('', ...threadsSection(latest), '', ...splitSection(latest.split));
  lines.push('', '## What each column includes', '', ...Object.entries(latest.impls).map(([k, v]) => `- **${k}**: ${v}`));
  const unavailable = Object.entries(latest.unavailable);
  if (unavailable.length > 0) lines.push('', '## Unavailable', '', ...unavailable.map(([k, v]) => `- **${k}**: ${v}`));
  if (latest.skipped.length > 0) lines.push('', `Left out by \`--quick\`: ${latest.skipped.join('; ')}.`);
  if (env.torch) {
    lines.push('', `PyTorch ${env.torch.version} (Python ${env.torch.python}) is timed by \`scripts/bench_torch.py\` in a child process, in the same interleaved rounds as batchnorm-wasm.`);
  }
  lines.push('', ...tfjsSection(latest.tfjs));
  return `${lines.join('\n')}\n`;
}

/** Writes docs/performance.md from `latest` and returns the page. */
export function writePerformancePage(latest) {
  const page = renderPerformancePage(latest);
  writeFileSync(PERFORMANCE_PAGE, page);
  return page;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writePerformancePage(JSON.parse(readFileSync(LATEST, 'utf8')));
