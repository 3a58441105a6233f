#!/usr/bin/python3
"""PyTorch CPU anchor for the benchmark suite: times the workloads of bench/workloads.json.

Run with the system interpreter (Debian python3-torch), after or before `npm run bench`:
    /usr/bin/python3 scripts/bench_torch.py [--quick] [--out bench/results/torch.json]

For each workload, operation and thread count (1 and 2) it writes the median time per
call in microseconds (the best of 5 rounds, like the wasm rows: the machine is shared);
`npm run bench` merges the file into its table when it exists.
What each operation includes, matching the wasm rows:
  forward-train  BatchNorm forward in training mode (batch stats, running stats updated)
  forward-eval   forward in eval mode (running stats)
  backward       autograd.grad of the training forward: dx, dgamma, dbeta (graph kept)
  train-step     training forward, then backward through it
Inputs are float32, contiguous in the workload's layout (channels_last memory format for
the NHWC workloads). No copies in or out are timed.
"""
import argparse
import json
import os
import platform
import statistics
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = {1: torch.nn.BatchNorm1d, 2: torch.nn.BatchNorm2d, 3: torch.nn.BatchNorm3d}


def median_us(fn, budget_s, min_samples):
    """Median over samples of the mean time of a batch of calls sized to ~2 ms."""
    fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    inner = max(1, int(0.002 / once))
    samples = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < min_samples or time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner * 1e6)
        if len(samples) >= 200:
            break
    return statistics.median(samples)


def to_module_shape(shape, channels_last):
    """The workload's shape in the API's order -> (NC... shape, channel-last permutation)."""
    if not channels_last or len(shape) <= 2:
        return list(shape), None
    return [shape[0], shape[-1], *shape[1:-1]], True


def bench_workload(w, budget_s, min_samples):
    shape, channels_last = to_module_shape(w['shape'], w.get('channelsLast', False))
    C = shape[1]
    module = MODULES[w['dims']](C)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, generator=gen)
    dy = torch.randn(*shape, generator=gen)
    if channels_last:
        fmt = torch.channels_last if len(shape) == 4 else torch.channels_last_3d
        x = x.contiguous(memory_format=fmt)
        dy = dy.contiguous(memory_format=fmt)
        module = module.to(memory_format=fmt)
    out = {}

    module.train()
    with torch.no_grad():
        out['forward-train'] = median_us(lambda: module(x), budget_s, min_samples)
    module.eval()
    with torch.no_grad():
        out['forward-eval'] = median_us(lambda: module(x), budget_s, min_samples)
    module.train()
    xg = x.detach().requires_grad_(True)
    y = module(xg)
    params = [xg, module.weight, module.bias]
    out['backward'] = median_us(lambda: torch.autograd.grad(y, params, dy, retain_graph=True), budget_s, min_samples)

    def step():
        yy = module(xg)
        torch.autograd.grad(yy, params, dy)
    out['train-step'] = median_us(step, budget_s, min_samples)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='short sampling (CI smoke)')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results', 'torch.json'))
    parser.add_argument('--threads', default='1,2', help='comma-separated thread counts')
    args = parser.parse_args()
    with open(os.path.join(ROOT, 'bench', 'workloads.json')) as f:
        spec = json.load(f)
    workloads = spec['workloads'] + spec['sweep']
    budget, min_samples, rounds = (0.05, 3, 1) if args.quick else (0.25, 5, 5)
    results = {}
    for threads in [int(t) for t in args.threads.split(',')]:
        torch.set_num_threads(threads)
        for w in workloads:
            for _ in range(rounds):
                for op, us in bench_workload(w, budget, min_samples).items():
                    slot = results.setdefault(w['id'], {}).setdefault(op, {})
                    slot[str(threads)] = min(us, slot.get(str(threads), float('inf')))
            print(f"torch {threads} thread(s) {w['id']}: " + ', '.join(
                f"{op} {results[w['id']][op][str(threads)]:.1f} us" for op in results[w['id']]), flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump({
            'torch': torch.__version__,
            'python': platform.python_version(),
            'machine': platform.machine(),
            'cpus': os.cpu_count(),
            'quick': args.quick,
            'rounds': rounds,
            'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
            'unit': 'us per call, median',
            'results': results,
        }, f, indent=1)
    print(f'wrote {os.path.relpath(args.out, ROOT)}')


if __name__ == '__main__':
    main()
