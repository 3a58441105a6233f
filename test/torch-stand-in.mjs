// A stand-in for scripts/bench_torch.py in test/bench-torch.test.ts: the same protocol, no
// torch. Its answer says what the request held: us = threads·1000 + samples + budget·100.
// The op names the stand-in's behaviour: 'fail' answers an error (as does a request without a
// workload), 'exit' ends the process.
import { createInterface } from 'node:readline';

const [greeting] = process.argv.slice(2);
if (greeting === 'silent') process.exit(0);
process.stdout.write(greeting === 'garbled' ? 'Traceback, not JSON\n' : `${JSON.stringify({ torch: '0.0-test', python: '3.0' })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const req = JSON.parse(line);
  if (req.op === 'exit') {
    process.stderr.write('RuntimeError: out of memory\n');
    process.exit(3);
  }
  const answer = req.op === 'fail' || typeof req.workload?.id !== 'string'
    ? { error: `ValueError: no operation '${req.op}' for ${JSON.stringify(req.workload)}` }
    : { us: req.threads * 1000 + req.samples + req.budget * 100 };
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
