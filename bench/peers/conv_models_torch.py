#!/usr/bin/python3
"""PyTorch twins of Nabla's convolutional model benchmarks (bench/Nabla.Bench ConvModelBenchmarks):

  lenet   LeNet-5 on 28x28x1 (Conv 6@5x5 same, relu, MaxPool 2, Conv 16@5x5 valid, relu, MaxPool 2,
          Dense 120 relu, Dense 84 relu, Dense 10), 61,706 params; one training step, batch 128,
          softmax cross-entropy on class ids, Adam (lr 1e-3, eps 1e-7 as Keras).
  w12     The W12 denoising conv autoencoder on 28x28x1 (Conv 32, MaxPool, Conv 32, MaxPool, Conv 16,
          Conv 32, UpSampling, Conv 32, UpSampling, Conv 1 sigmoid; all 3x3 same), 28,369 params; one
          training step, batch 128, binary cross-entropy, Adam.
  vgg16   VGG16 with its top (224x224x3, 138,357,544 params), forward only, batch 1, eval mode.

Each model runs NCHW (PyTorch's default) and channels_last, and each thread count in its own child
process with OMP/OPENBLAS/MKL_NUM_THREADS set before torch loads; the report keeps every
configuration, so the peer's best is the minimum. Timing: torch.utils.benchmark.Timer.blocked_autorange
after a warm-up. FLOPs are counted from the layer shapes (2 per multiply-add; a training step is 3x the
forward FLOPs of the convolutions and dense layers: forward, input gradient, weight gradient).

Usage: /usr/bin/python3 conv_models_torch.py --model lenet|w12|vgg16 [--threads 1 2] [--min-run-time 3]
Prints one JSON object on stdout.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.benchmark as benchmark


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def w12():
    def conv(i, o):
        return nn.Conv2d(i, o, 3, padding=1)
    # MaxPool2d with Keras's 'same' padding: 28 -> 14 -> 7 divide evenly, so no padding is needed.
    return nn.Sequential(
        conv(1, 32), nn.ReLU(), nn.MaxPool2d(2), conv(32, 32), nn.ReLU(), nn.MaxPool2d(2), conv(32, 16), nn.ReLU(),
        conv(16, 32), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest"),
        conv(32, 32), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest"), conv(32, 1), nn.Sigmoid())


def vgg16():
    layers, c = [], 3
    for n, width in [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]:
        for _ in range(n):
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
            c = width
        layers.append(nn.MaxPool2d(2))
    layers += [nn.Flatten(), nn.Linear(7 * 7 * 512, 4096), nn.ReLU(), nn.Dropout(0.5),
               nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000), nn.Softmax(dim=1)]
    return nn.Sequential(*layers)


MODELS = {
    # name: (builder, params, input [C,H,W], batch, training)
    "lenet": (lenet, 61_706, (1, 28, 28), 128, True),
    "w12": (w12, 28_369, (1, 28, 28), 128, True),
    "vgg16": (vgg16, 138_357_544, (3, 224, 224), 1, False),
}


def forward_flops(model, shape) -> float:
    """2 x multiply-adds of the Conv2d and Linear layers for one sample."""
    flops = 0.0
    x = torch.zeros(1, *shape)
    for layer in model:
        y = layer(x)
        if isinstance(layer, nn.Conv2d):
            kh, kw = layer.kernel_size
            flops += 2.0 * y.numel() * kh * kw * layer.in_channels
        elif isinstance(layer, nn.Linear):
            flops += 2.0 * layer.in_features * layer.out_features
        x = y
    return flops


def measure(name: str, threads: int, channels_last: bool, min_run_time: float) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    build, params, shape, batch, training = MODELS[name]
    model = build()
    assert sum(p.numel() for p in model.parameters()) == params
    fwd = forward_flops(model, shape)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = torch.rand(batch, *shape).to(memory_format=fmt)
    if training:
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
        if name == "lenet":
            y = torch.randint(0, 10, (batch,))

            def step():
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                return loss.item()
        else:
            target = torch.rand(batch, *shape).to(memory_format=fmt)

            def step():
                opt.zero_grad(set_to_none=True)
                loss = F.binary_cross_entropy(model(x), target)
                loss.backward()
                opt.step()
                return loss.item()
        flops = 3.0 * fwd * batch
    else:
        model.eval()

        def step():
            with torch.no_grad():
                return float(model(x)[0, 0])
        flops = fwd * batch
    load_before = os.getloadavg()[0]
    t_end = time.perf_counter() + 2.0
    while time.perf_counter() < t_end:
        step()
    m = benchmark.Timer(stmt="step()", globals={"step": step}, num_threads=threads).blocked_autorange(min_run_time=min_run_time)
    return {
        "threads": threads,
        "format": "channels_last" if channels_last else "NCHW",
        "median_ms": m.median * 1e3,
        "iqr_ms": m.iqr * 1e3,
        "blocks": len(m.times),
        "gflops": flops / m.median / 1e9,
        "load1_before": load_before,
        "load1_after": os.getloadavg()[0],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(MODELS), required=True)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--min-run-time", type=float, default=3.0)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--channels-last", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.model, args.child, args.channels_last, args.min_run_time)))
        return
    results = []
    for threads in args.threads:
        for cl in (False, True):
            env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
            cmd = [sys.executable, os.path.abspath(__file__), "--model", args.model, "--child", str(threads),
                   "--min-run-time", str(args.min_run_time)] + (["--channels-last"] if cl else [])
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
    build, params, shape, batch, training = MODELS[args.model]
    flops = forward_flops(build(), shape) * batch * (3.0 if training else 1.0)
    print(json.dumps({
        "framework": "pytorch", "version": torch.__version__, "python": platform.python_version(),
        "mkldnn": torch.backends.mkldnn.is_available(), "model": args.model, "params": params, "batch": batch,
        "training": training, "flops": flops, "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "results": results, "best": min(results, key=lambda r: r["median_ms"]),
    }))


if __name__ == "__main__":
    main()
