// docs/performance.md, rendered from the object bench/run.mjs writes to
// bench/results/latest.json. Everything on the page comes from that object (its env carries
// the date, the machine and the command line), so the same JSON always renders the same
// page: test/generated.test.ts re-renders the committed JSON and compares.
import { writeFileSync } from 'node:fs';
import { generatedHeader } from '../scripts/generated.mjs';

export const PERFORMANCE_PAGE = new URL('../docs/performance.md', import.meta.url);

// Rows that are ours or an anchor; every other implementation in `impls` is a peer.
const NOT_PEERS = new Set(['ours', 'kernel', 'copy', 'floor']);

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

function table(head, rows) {
  const align = head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|');
  return [`| ${head.join(' | ')} |`, `|${align}|`, ...rows.map((cells) => `| ${cells.join(' | ')} |`)].join('\n');
}

/** The operations in the order bench/run.mjs measures them. */
export function operations(latest) {
  return Object.keys(latest.traffic);
}

export function peers(latest) {
  return Object.keys(latest.impls).filter((impl) => !NOT_PEERS.has(impl));
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

/** The page as Markdown: the header, then the tables bench/run.mjs prints, from `latest` alone. */
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
      'absolute times move by 10–30% between runs on a shared machine.',
    '',
    speedTable(latest),
    '',
    '## Median time per call',
    '',
    timesTable(latest, latest.workloads),
  ];
  if (latest.sweep.length > 0) {
    lines.push('', '## Size sweep (BatchNorm1d [10, 10, L]), median time per call', '', timesTable(latest, latest.sweep));
  }
  lines.push('', '## What each column includes', '', ...Object.entries(latest.impls).map(([k, v]) => `- **${k}**: ${v}`));
  const unavailable = Object.entries(latest.unavailable);
  if (unavailable.length > 0) lines.push('', '## Unavailable', '', ...unavailable.map(([k, v]) => `- **${k}**: ${v}`));
  if (latest.skipped.length > 0) lines.push('', `Left out by \`--quick\`: ${latest.skipped.join('; ')}.`);
  if (env.torch) lines.push('', `PyTorch ${env.torch.version} times come from \`bench/results/torch.json\` (${env.torch.date}).`);
  return `${lines.join('\n')}\n`;
}

export function writePerformancePage(latest) {
  writeFileSync(PERFORMANCE_PAGE, renderPerformancePage(latest));
}
