#!/usr/bin/python3
"""PyTorch CPU anchor for the benchmark suite, timed in the same rounds as batchnorm-wasm.

`npm run bench` starts it as a child process with the system interpreter (Debian
python3-torch) and, in each interleaved round, asks it for the workload and operation it has
just timed itself, at 1 and 2 threads; so PyTorch's rows are measured in the same minutes as
ours on a machine whose speed moves from one minute to the next. It can be driven by hand:
    /usr/bin/python3 scripts/bench_torch.py
reads one request per line on stdin and answers each on stdout, in JSON:
    {"workload": <an entry of bench/workloads.json>, "op": "forward-train", "threads": 2, "budget": 0.25, "samples": 5}
    -> {"us": 1234.5}
the median time per call in microseconds, over at least `samples` batches of calls and for
at least `budget` seconds.
Its first line says what runs: {"torch": version, "python": version}. A request it cannot
serve gets {"error": "..."}; end of input ends it.
What each operation includes, matching the wasm rows:
  forward-train  BatchNorm forward in training mode (batch stats, running stats updated)
  forward-eval   forward in eval mode (running stats)
  backward       autograd.grad of the training forward: dx, dgamma, dbeta (graph kept)
  train-step     training forward, then backward through it
Inputs are float32, contiguous in the workload's layout (channels_last memory format for
the NHWC workloads). No copies in or out are timed.
"""
import json
import platform
import statistics
import sys
import time

import torch

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


class Workload:
    """One workload's module and tensors, built once and kept while requests name it."""

    def __init__(self, w):
        shape, channels_last = to_module_shape(w['shape'], w.get('channelsLast', False))
        module = MODULES[w['dims']](shape[1])
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(*shape, generator=gen)
        dy = torch.randn(*shape, generator=gen)
        if channels_last:
            fmt = torch.channels_last if len(shape) == 4 else torch.channels_last_3d
            x = x.contiguous(memory_format=fmt)
            dy = dy.contiguous(memory_format=fmt)
            module = module.to(memory_format=fmt)
        self.id = w['id']
        self.module, self.x, self.dy = module, x, dy
        xg = x.detach().requires_grad_(True)
        self.params = [xg, module.weight, module.bias]
        module.train()
        self.y = module(xg)
        self.xg = xg

    def call(self, op):
        """The operation's call, with the module in the mode it needs."""
        module = self.module
        if op == 'forward-train':
            module.train()
            return lambda: self.forward()
        if op == 'forward-eval':
            module.eval()
            return lambda: self.forward()
        if op == 'backward':
            module.train()
            return lambda: torch.autograd.grad(self.y, self.params, self.dy, retain_graph=True)
        if op == 'train-step':
            module.train()
            return lambda: torch.autograd.grad(module(self.xg), self.params, self.dy)
        raise ValueError(f'no operation {op!r}')

    def forward(self):
        with torch.no_grad():
            return self.module(self.x)


def serve(requests, answer):
    answer({'torch': torch.__version__, 'python': platform.python_version()})
    current = None
    for line in requests:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            w = req['workload']
            if current is None or current.id != w['id']:
                current = None  # the last workload's tensors go before the next one's come
                current = Workload(w)
            torch.set_num_threads(int(req['threads']))
            answer({'us': median_us(current.call(req['op']), float(req['budget']), int(req['samples']))})
        except Exception as error:  # the bench reports it and goes on without PyTorch
            answer({'error': f'{type(error).__name__}: {error}'})


def main():
    def answer(obj):
        sys.stdout.write(json.dumps(obj) + '\n')
        sys.stdout.flush()
    serve(sys.stdin, answer)


if __name__ == '__main__':
    main()
