// PyTorch as a peer of the bench, timed in the same interleaved rounds as batchnorm-wasm:
// scripts/bench_torch.py runs as a child process on the system interpreter (Debian
// python3-torch) and times one workload, operation and thread count per request, while this
// process waits. Timed apart (minutes or hours away), its rows would compare two machine
// speeds as much as two implementations.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

// The interpreter Debian's python3-torch installs into.
const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('../scripts/bench_torch.py', import.meta.url);

/**
 * Starts the child. Resolves to `{ version, python, time(workload, op, threads) → ms, close() }`,
 * or to `{ unavailable: reason }` when there is no interpreter or it cannot import torch.
 * `budget` (seconds) and `samples` are each measurement's least time and batch count;
 * `command` is the interpreter and its arguments (tests hand it a stand-in).
 */
export async function startTorch({ budget, samples, command = [PYTHON, SCRIPT.pathname] }) {
  const [program, ...rest] = command;
  if (!existsSync(program)) return { unavailable: `no ${program} (apt-get install python3-torch)` };
  const child = spawn(program, rest, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-2000); });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise((resolve) => {
    child.on('close', resolve);
    child.on('error', (error) => {
      stderr += `\n${error.message}`;
      resolve();
    });
  });
  // The next answer, or null once the child has gone (its last words are in stderr).
  const next = async () => {
    const line = await Promise.race([lines.next(), exited.then(() => ({ done: true }))]);
    if (line.done) return null;
    try {
      return JSON.parse(line.value);
    } catch {
      return { error: `not an answer: ${line.value.slice(0, 200)}` };
    }
  };
  const gone = () => `scripts/bench_torch.py ended: ${stderr.trim().split('\n').at(-1) || 'no message'}`;
  const hello = await next();
  if (hello === null || typeof hello.torch !== 'string') {
    child.kill();
    return { unavailable: hello?.error ?? gone() };
  }
  return {
    version: hello.torch,
    python: hello.python,
    /** Milliseconds per call, the median of PyTorch's batches. Throws when the child cannot answer. */
    async time(workload, op, threads) {
      child.stdin.write(`${JSON.stringify({ workload, op, threads, budget, samples })}\n`);
      const answer = await next();
      if (answer === null) throw new Error(gone());
      if (typeof answer.us !== 'number') throw new Error(`scripts/bench_torch.py: ${answer.error}`);
      return answer.us / 1000;
    },
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}
