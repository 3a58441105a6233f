// The bench's PyTorch child (bench/torch.mjs): what it sends and reads, and how it fails,
// with a stand-in for scripts/bench_torch.py (PyTorch is no test-time dependency).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM scripts without type declarations
import { startTorch } from '../bench/torch.mjs';

type Torch = {
  unavailable?: string; version: string; python: string;
  time(workload: object, op: string, threads: number): Promise<number>; close(): Promise<void>;
};
const standIn = fileURLToPath(new URL('torch-stand-in.mjs', import.meta.url));
const start = (greeting = 'hello'): Promise<Torch> =>
  startTorch({ budget: 0.5, samples: 7, command: [process.execPath, standIn, greeting] });
const workload = { id: 'bn1d-2x3', dims: 1, shape: [2, 3], channelsLast: false };

describe('the PyTorch child of the bench', () => {
  it('says what runs and times each request with its thread count, budget and samples', async () => {
    const torch = await start();
    expect(torch.unavailable).toBeUndefined();
    expect([torch.version, torch.python]).toEqual(['0.0-test', '3.0']);
    expect(await torch.time(workload, 'forward-train', 1)).toBeCloseTo((1000 + 7 + 50) / 1000, 9);
    expect(await torch.time(workload, 'backward', 2)).toBeCloseTo((2000 + 7 + 50) / 1000, 9);
    await torch.close();
  });

  it('throws the child\'s error for a request it cannot serve, and still answers the next', async () => {
    const torch = await start();
    await expect(torch.time(workload, 'fail', 1)).rejects.toThrow(/bench_torch\.py: ValueError: no operation 'fail' for \{"id":"bn1d-2x3"/);
    expect(await torch.time(workload, 'forward-eval', 2)).toBeCloseTo(2.057, 9);
    await torch.close();
  });

  it('throws with the child\'s last words when it ends mid-run', async () => {
    const torch = await start();
    await expect(torch.time(workload, 'exit', 1)).rejects.toThrow(/ended: RuntimeError: out of memory/);
  });

  it('is unavailable, with the reason, when the interpreter is missing, ends at once or does not greet in JSON', async () => {
    expect(await startTorch({ budget: 1, samples: 1, command: ['/nonexistent/python3', 'x.py'] }))
      .toEqual({ unavailable: 'no /nonexistent/python3 (apt-get install python3-torch)' });
    expect((await start('silent')).unavailable).toBe('scripts/bench_torch.py ended: no message');
    expect((await start('garbled')).unavailable).toBe('not an answer: Traceback, not JSON');
  });
});
