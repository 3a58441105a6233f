#!/usr/bin/python3
"""Golden fixtures for batchnorm-wasm, computed by PyTorch (Debian python3-torch 1.13).

Run with the system interpreter (it is the one that has torch):
    /usr/bin/python3 scripts/make_fixtures.py

Writes one JSON file per case into test/fixtures/ (format: see test/golden.test.ts).
"expected" is PyTorch in float64 on f32-exact inputs, so it is the true answer to well
below f32 rounding; "torch32Error" is how far PyTorch's own float32 path lands from it,
which is the yardstick the tests hold us to.
"""
import json
import os
import shutil
import zlib

import numpy as np
import torch

torch.set_num_threads(1)  # reduction order (and thus the f32 errors) must not depend on the machine
torch.manual_seed(0)      # nothing here draws from torch's RNG; this is belt and braces

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures')

MODULES = {1: torch.nn.BatchNorm1d, 2: torch.nn.BatchNorm2d, 3: torch.nn.BatchNorm3d}
TRAIN3_EVAL2 = [True, True, True, False, False]


def to_f32_list(a):
    # Every value is exactly an f32, written as the Python float (f64) of that f32, so
    # JSON.parse in the test yields the very number PyTorch was given.
    return [float(v) for v in np.asarray(a, dtype=np.float32).astype(np.float64).ravel()]


def canon_to_api(t, channels_last):
    """NC... tensor -> flat list in the order our API takes (channel axis last if asked)."""
    if channels_last and t.dim() > 2:
        t = t.permute(0, *range(2, t.dim()), 1)
    return t.contiguous().reshape(-1)


def api_shape(shape, channels_last):
    shape = list(shape)
    if channels_last and len(shape) > 2:
        return [shape[0]] + shape[2:] + [shape[1]]
    return shape


def as_torch32_input(a, channels_last):
    """f32 input laid out the way a channels-last PyTorch user would hold it, so that
    PyTorch's own channels-last kernels (not a hidden transpose) produce torch32Error."""
    t = torch.from_numpy(a.copy())
    if channels_last:
        if t.dim() == 4:
            t = t.contiguous(memory_format=torch.channels_last)
        elif t.dim() == 5:
            t = t.contiguous(memory_format=torch.channels_last_3d)
        elif t.dim() == 3:
            # No memory format for 3d: an [N,L,C]-contiguous buffer viewed as [N,C,L].
            t = t.permute(0, 2, 1).contiguous().permute(0, 2, 1)
    return t


def gen_x(rng, shape, kind):
    C = shape[1]
    bshape = [1, C] + [1] * (len(shape) - 2)
    z = rng.standard_normal(shape)
    if kind == 'normal':
        # Distinct per-channel mean and scale, so a channel mix-up cannot pass.
        mu = rng.normal(0.0, 2.0, C).reshape(bshape)
        sd = rng.uniform(0.5, 3.0, C).reshape(bshape)
        x = mu + sd * z
    elif kind == 'offset':
        # Large offset: E[x^2] - E[x]^2 in f32 loses every significant digit here.
        x = 1e4 + rng.normal(0.0, 0.5, C).reshape(bshape) + z
    elif kind == 'tiny':
        # Variance ~1e-8 is far below eps (1e-5): eps dominates the denominator.
        x = 0.5 + 1e-4 * z
    else:
        raise ValueError(kind)
    return x.astype(np.float32)


def max_abs_err(a32, a64):
    if a64 is None:
        return None
    d = (a32.detach().double() - a64.detach()).abs()
    return float(d.max()) if d.numel() else 0.0


def make_case(name, dim, C, shape, *, eps=1e-5, momentum=0.1, affine=True, track=True,
              channels_last=False, kind='normal', steps=TRAIN3_EVAL2):
    assert len(shape) in ((2, 3) if dim == 1 else (dim + 2,))
    assert shape[1] == C
    # Seed from the name: each case is reproducible on its own and adding cases does not
    # change the others.
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    Mod = MODULES[dim]
    kw = dict(eps=eps, momentum=momentum, affine=affine, track_running_stats=track)
    m64 = Mod(C, **kw).double()
    m32 = Mod(C, **kw)

    weight = bias = None
    if affine:
        # Non-trivial gamma of both signs (bounded away from 0) and beta, so a kernel that
        # ignores or swaps them fails.
        w = (rng.uniform(0.25, 2.0, C) * rng.choice([-1.0, 1.0], C)).astype(np.float32)
        b = rng.normal(0.0, 1.0, C).astype(np.float32)
        with torch.no_grad():
            m64.weight.copy_(torch.from_numpy(w.astype(np.float64)))
            m64.bias.copy_(torch.from_numpy(b.astype(np.float64)))
            m32.weight.copy_(torch.from_numpy(w))
            m32.bias.copy_(torch.from_numpy(b))
        weight, bias = to_f32_list(w), to_f32_list(b)

    out_steps = []
    for training in steps:
        m64.train(training)
        m32.train(training)
        x = gen_x(rng, shape, kind)
        dy = rng.standard_normal(shape).astype(np.float32)

        x64 = torch.from_numpy(x.astype(np.float64)).requires_grad_()
        y64 = m64(x64)
        y64.backward(torch.from_numpy(dy.astype(np.float64)))

        x32 = as_torch32_input(x, channels_last).requires_grad_()
        dy32 = as_torch32_input(dy, channels_last)
        y32 = m32(x32)
        if channels_last and len(shape) in (4, 5):
            mf = torch.channels_last if len(shape) == 4 else torch.channels_last_3d
            assert y32.is_contiguous(memory_format=mf), 'PyTorch did not take its channels-last path'
        y32.backward(dy32)

        def pair(get):
            a64, a32 = get(m64, y64, x64), get(m32, y32, x32)
            return a64, a32

        items = {
            'y': pair(lambda m, y, xx: y),
            'dx': pair(lambda m, y, xx: xx.grad),
            # .grad accumulates across steps (never zeroed), like our weightGrad/biasGrad.
            'weightGrad': pair(lambda m, y, xx: m.weight.grad if affine else None),
            'biasGrad': pair(lambda m, y, xx: m.bias.grad if affine else None),
            'runningMean': pair(lambda m, y, xx: m.running_mean),
            'runningVar': pair(lambda m, y, xx: m.running_var),
        }
        expected, err = {}, {}
        for k, (a64, a32) in items.items():
            if a64 is None:
                assert a32 is None
                expected[k] = None
                err[k] = None
                continue
            if k in ('y', 'dx'):
                expected[k] = canon_to_api(a64.detach(), channels_last).tolist()
            else:
                expected[k] = a64.detach().reshape(-1).tolist()
            err[k] = max_abs_err(a32, a64)
        if track:
            n64, n32 = int(m64.num_batches_tracked), int(m32.num_batches_tracked)
            assert n64 == n32
            expected['numBatchesTracked'] = n64
            err['numBatchesTracked'] = 0
        else:
            assert m64.num_batches_tracked is None
            expected['numBatchesTracked'] = None
            err['numBatchesTracked'] = None

        x_api = canon_to_api(torch.from_numpy(x), channels_last).numpy()
        dy_api = canon_to_api(torch.from_numpy(dy), channels_last).numpy()
        out_steps.append({
            'training': training,
            'shape': api_shape(shape, channels_last),
            'x': to_f32_list(x_api),
            'dy': to_f32_list(dy_api),
            'expected': expected,
            'torch32Error': err,
        })

    return {
        'name': name,
        'module': Mod.__name__,
        'numFeatures': C,
        'options': {'eps': eps, 'momentum': momentum, 'affine': affine,
                    'trackRunningStats': track, 'channelsLast': channels_last},
        'weight': weight,
        'bias': bias,
        'steps': out_steps,
    }


def cases():
    T, E = True, False
    # Sizes are odd on purpose (C=5, L=13, H=7, W=3, ...): every SIMD kernel hits its
    # remainder path, both along S (planar) and across C (interleaved).
    yield make_case('bn1d_nc', 1, 5, [16, 5])
    yield make_case('bn1d_nc_channels_last', 1, 9, [11, 9], channels_last=True)
    yield make_case('bn1d_ncl', 1, 5, [3, 5, 13])
    yield make_case('bn1d_ncl_channels_last', 1, 5, [3, 5, 13], channels_last=True)
    yield make_case('bn2d', 2, 5, [2, 5, 7, 3])
    yield make_case('bn2d_channels_last', 2, 5, [2, 5, 7, 3], channels_last=True)
    yield make_case('bn3d', 3, 5, [2, 5, 3, 2, 3])
    yield make_case('bn3d_channels_last', 3, 5, [2, 5, 3, 2, 3], channels_last=True)

    # momentum=None: cumulative moving average, factor 1/numBatchesTracked.
    yield make_case('bn1d_nc_momentum_null', 1, 5, [8, 5], momentum=None)
    yield make_case('bn2d_momentum_null', 2, 5, [2, 5, 3, 3], momentum=None)
    yield make_case('bn3d_channels_last_momentum_null', 3, 5, [2, 5, 2, 3, 3],
                    momentum=None, channels_last=True)

    yield make_case('bn2d_no_affine', 2, 5, [2, 5, 3, 3], affine=False)
    yield make_case('bn1d_ncl_channels_last_no_affine', 1, 5, [2, 5, 13], affine=False,
                    channels_last=True)

    # track_running_stats=False: eval still normalizes with batch stats, and its backward
    # is the full training backward.
    yield make_case('bn1d_nc_no_running_stats', 1, 5, [8, 5], track=False)
    yield make_case('bn2d_no_running_stats', 2, 5, [2, 5, 3, 3], track=False)
    yield make_case('bn2d_channels_last_no_running_stats_no_affine', 2, 5, [2, 5, 3, 3],
                    track=False, affine=False, channels_last=True)
    yield make_case('bn3d_no_running_stats', 3, 5, [2, 5, 3, 2, 3], track=False)

    yield make_case('bn2d_eps1e-3_momentum0.3', 2, 5, [2, 5, 3, 3], eps=1e-3, momentum=0.3)
    yield make_case('bn2d_channels_last_eps1e-3_momentum0.3', 2, 5, [2, 5, 3, 3], eps=1e-3,
                    momentum=0.3, channels_last=True)
    yield make_case('bn2d_momentum0', 2, 5, [2, 5, 3, 3], momentum=0.0)
    yield make_case('bn1d_nc_momentum0', 1, 5, [8, 5], momentum=0.0)

    yield make_case('bn1d_nc_offset', 1, 5, [16, 5], kind='offset')
    yield make_case('bn2d_offset', 2, 5, [2, 5, 5, 3], kind='offset')
    yield make_case('bn2d_channels_last_offset', 2, 5, [2, 5, 5, 3], kind='offset',
                    channels_last=True)
    yield make_case('bn3d_channels_last_offset', 3, 5, [2, 5, 3, 2, 3], kind='offset',
                    channels_last=True)

    yield make_case('bn1d_nc_tiny_var', 1, 5, [16, 5], kind='tiny')
    yield make_case('bn2d_tiny_var', 2, 5, [2, 5, 5, 3], kind='tiny')
    yield make_case('bn2d_channels_last_tiny_var', 2, 5, [2, 5, 5, 3], kind='tiny',
                    channels_last=True)

    # N=1 is legal in training as long as there is more than one value per channel.
    yield make_case('bn1d_ncl_n1', 1, 5, [1, 5, 13])
    yield make_case('bn2d_n1', 2, 5, [1, 5, 7, 3])
    yield make_case('bn2d_channels_last_n1', 2, 5, [1, 5, 7, 3], channels_last=True)
    yield make_case('bn3d_n1', 3, 5, [1, 5, 3, 2, 3])

    # Channel counts around the vector width for the interleaved kernel, and S below it
    # for the planar kernel.
    yield make_case('bn1d_nc_c1', 1, 1, [7, 1])
    yield make_case('bn1d_nc_c16', 1, 16, [6, 16])
    yield make_case('bn2d_channels_last_c3', 2, 3, [3, 3, 5, 2], channels_last=True)
    yield make_case('bn2d_channels_last_c18', 2, 18, [2, 18, 3, 1], channels_last=True)
    yield make_case('bn2d_spatial1', 2, 5, [6, 5, 1, 1])
    yield make_case('bn1d_ncl_l2', 1, 6, [3, 6, 2])

    # Eval before any training (initial running stats) and train/eval interleaved.
    yield make_case('bn2d_eval_first', 2, 5, [2, 5, 3, 3], steps=[E, T, E, T, E])

    # One bigger case so reductions run over a few thousand values per channel. A single
    # training step keeps the fixture set small; eval is elementwise and covered above.
    yield make_case('bn2d_large', 2, 6, [8, 6, 17, 19], steps=[T])


def error_fixture():
    """The one-value-per-channel error, with PyTorch's own wording for reference."""
    out = []
    for module, C, shape in [('BatchNorm1d', 64, [1, 64]), ('BatchNorm1d', 4, [1, 4, 1]),
                             ('BatchNorm2d', 3, [1, 3, 1, 1])]:
        m = getattr(torch.nn, module)(C)
        m.train()
        try:
            m(torch.zeros(shape))
            raise AssertionError('PyTorch accepted ' + str(shape))
        except ValueError as e:
            msg = str(e)
        ours = msg.replace('torch.Size(', '').replace('])', ']')
        out.append({
            'module': module, 'numFeatures': C, 'shape': shape,
            'pytorchMessage': msg,
            # Same words, shape printed as a plain array.
            'expectedMessage': ours,
            # PyTorch bumps num_batches_tracked before it checks the size; recorded only
            # as a reference, the tests do not ask us to copy that.
            'pytorchNumBatchesTrackedAfter': int(m.num_batches_tracked),
        })
    assert out[0]['expectedMessage'] == \
        'Expected more than 1 value per channel when training, got input size [1, 64]'
    return {'name': 'errors', 'torchVersion': torch.__version__, 'cases': out}


def dump(obj, path):
    with open(path, 'w') as f:
        # allow_nan=False: a NaN in a fixture is a generator bug, not a test value.
        json.dump(obj, f, separators=(',', ':'), allow_nan=False)
        f.write('\n')


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    total = 0
    for case in cases():
        p = os.path.join(OUT, case['name'] + '.json')
        dump(case, p)
        total += os.path.getsize(p)
    p = os.path.join(OUT, 'errors.json')
    dump(error_fixture(), p)
    total += os.path.getsize(p)
    print('torch', torch.__version__, '->', OUT, f'{total / 1e6:.2f} MB')


if __name__ == '__main__':
    main()
