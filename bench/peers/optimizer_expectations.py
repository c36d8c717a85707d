#!/usr/bin/env python3
"""Writes tests/data/optimizers/pytorch-1.13.json: a few optimizer steps run by PyTorch 1.13 (Debian
python3-torch) on fixed inputs, the expectations of tests/Nabla.Tests/Engine/Optimizers/
PyTorchOptimizerTests.cs.

    /usr/bin/python3 bench/peers/optimizer_expectations.py

Every case starts from the same float32-representable parameter and feeds the same gradients (also
float32-representable, |g| in [0.1, 2] with both signs so that no denominator is near zero and the
momentum has to turn). PyTorch runs in float64, so the file holds the exact-as-possible answer for
those inputs; the test compares the engine's float32 CPU path at float32 tolerance and its float64
reference path at 1e-12.

epsilon is 0 in every case. PyTorch adds eps to sqrt(v_hat) = sqrt(v) / sqrt(1 - beta2^t) (Adam) and
outside the square root (RMSprop); Keras, and so the engine, adds it to sqrt(v) (Adam) and inside the
square root (RMSprop). No constant maps one onto the other, and with eps = 0 both formulas are the
same function, so the comparison checks the rest of the update exactly; the engine's epsilon placement
is checked against Keras's formula in OptimizerTests.cs.
"""
import json
import os
import sys

import torch

SHAPE = [5, 7]  # 35 elements: two 16-float vectors and a scalar tail on AVX-512
STEPS = 5

CASES = [
    ("adam", "Adam", dict(lr=0.01, betas=(0.9, 0.999), eps=0.0)),
    ("adam_custom", "Adam", dict(lr=0.05, betas=(0.8, 0.95), eps=0.0)),
    ("rmsprop", "RMSprop", dict(lr=0.01, alpha=0.9, eps=0.0)),
    ("rmsprop_momentum", "RMSprop", dict(lr=0.01, alpha=0.8, eps=0.0, momentum=0.5)),
    ("rmsprop_centered", "RMSprop", dict(lr=0.01, alpha=0.9, eps=0.0, centered=True)),
    ("rmsprop_centered_momentum", "RMSprop", dict(lr=0.05, alpha=0.8, eps=0.0, momentum=0.9, centered=True)),
    ("sgd_momentum", "SGD", dict(lr=0.1, momentum=0.9)),
    ("sgd_nesterov", "SGD", dict(lr=0.05, momentum=0.7, nesterov=True)),
]


def float32_values(generator, n, lo, hi):
    """n uniform values in [lo, hi), rounded to float32 and returned as float64."""
    return (torch.rand(n, generator=generator, dtype=torch.float64) * (hi - lo) + lo).float().double()


def inputs():
    gen = torch.Generator().manual_seed(20261201)
    n = SHAPE[0] * SHAPE[1]
    initial = float32_values(gen, n, -2.0, 2.0)
    gradients = []
    for _ in range(STEPS):
        magnitude = float32_values(gen, n, 0.1, 2.0)
        sign = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).double()
        gradients.append(magnitude * sign)
    return initial, gradients


def run(kind, kwargs, initial, gradients):
    param = torch.nn.Parameter(initial.clone().reshape(SHAPE))
    optimizer = getattr(torch.optim, kind)([param], **kwargs)
    steps = []
    for grad in gradients:
        param.grad = grad.clone().reshape(SHAPE)
        optimizer.step()
        state = optimizer.state[param]
        steps.append({
            "param": param.detach().flatten().tolist(),
            "state": {k: v.flatten().tolist() for k, v in state.items() if torch.is_tensor(v) and v.numel() > 1},
        })
    return steps


def main():
    initial, gradients = inputs()
    out = {
        "generator": "bench/peers/optimizer_expectations.py",
        "torch_version": torch.__version__,
        "dtype": "float64",
        "shape": SHAPE,
        "initial": initial.tolist(),
        "gradients": [g.tolist() for g in gradients],
        "cases": [
            {"name": name, "torch_class": kind, "kwargs": kwargs, "steps": run(kind, kwargs, initial, gradients)}
            for name, kind, kwargs in CASES
        ],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "optimizers", "pytorch-1.13.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(path)} (torch {torch.__version__}, {len(CASES)} cases x {STEPS} steps)", file=sys.stderr)


if __name__ == "__main__":
    main()
