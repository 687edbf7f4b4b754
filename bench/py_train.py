#!/usr/bin/env python3
"""`make bench-compare`, Python part: one training step of an MLP and of a transformer block
written with lazuli.nn / lazuli.optimizers, next to the same models in PyTorch, in one run.

    PYTHONPATH=build/release/python python3 bench/py_train.py [--threads N]

Prints `py_mlp_train_step_ms` and `py_transformer_train_step_ms` for both, and Lazuli's
speed ratio (> 1: Lazuli is faster). Figures on a loaded machine mean little."""
import argparse
import os
import subprocess
import sys
import time


def median_time(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2]


# MLP 784-512-512-10, batch 256, SGD; transformer: one pre-norm encoder layer,
# B=8 T=128 D=256 H=4 FF=1024, causal mask, loss mean(y^2), SGD.
MLP_DIMS, MLP_BATCH = [784, 512, 512, 10], 256
B, T, D, H, FF = 8, 128, 256, 4, 1024


def lazuli_steps():
    import numpy as np

    import lazuli.core as mx
    import lazuli.nn as nn
    import lazuli.optimizers as optim

    rng = np.random.default_rng(0)
    mlp = nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
    )
    opt = optim.SGD(learning_rate=0.01)
    xb = mx.array(rng.random((MLP_BATCH, 784), dtype=np.float32))
    yb = mx.array(np.arange(MLP_BATCH, dtype=np.uint32) * 7 % 10)
    mx.eval(mlp.parameters())

    def mlp_loss(model, x, y):
        return nn.losses.cross_entropy(model(x), y, reduction="mean")

    mlp_lg = nn.value_and_grad(mlp, mlp_loss)

    def mlp_step():
        loss, grads = mlp_lg(mlp, xb, yb)
        opt.update(mlp, grads)
        mx.eval(loss, mlp.parameters(), opt.state)

    layer = nn.TransformerEncoderLayer(D, H, FF, activation=nn.gelu_approx)
    topt = optim.SGD(learning_rate=0.01)
    xt = mx.array(rng.random((B, T, D), dtype=np.float32) * 2 - 1)
    mask = nn.MultiHeadAttention.create_additive_causal_mask(T)
    mx.eval(layer.parameters())

    def block_loss(model, x):
        return mx.mean(mx.square(model(x, mask)))

    block_lg = nn.value_and_grad(layer, block_loss)

    def block_step():
        loss, grads = block_lg(layer, xt)
        topt.update(layer, grads)
        mx.eval(loss, layer.parameters(), topt.state)

    return mlp_step, block_step


def torch_steps(threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    F = torch.nn.functional
    mlp = torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 10),
    )
    opt = torch.optim.SGD(mlp.parameters(), lr=0.01)
    xb = torch.rand(MLP_BATCH, 784)
    yb = torch.arange(MLP_BATCH) * 7 % 10

    def mlp_step():
        opt.zero_grad()
        loss = F.cross_entropy(mlp(xb), yb)
        loss.backward()
        opt.step()

    layer = torch.nn.TransformerEncoderLayer(
        D, H, FF, dropout=0.0, activation=lambda v: F.gelu(v, approximate="tanh"),
        batch_first=True, norm_first=True,
    )
    topt = torch.optim.SGD(layer.parameters(), lr=0.01)
    xt = torch.rand(B, T, D) * 2 - 1
    mask = torch.nn.Transformer.generate_square_subsequent_mask(T)

    def block_step():
        topt.zero_grad()
        loss = (layer(xt, src_mask=mask) ** 2).mean()
        loss.backward()
        topt.step()

    return mlp_step, block_step


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--only", choices=["lazuli", "torch"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.only:
        # One framework per process: PyTorch's libgomp and lazuli.core both want static TLS
        # that the other one's loading uses up.
        steps = lazuli_steps() if args.only == "lazuli" else torch_steps(args.threads)
        print(" ".join(f"{median_time(f, args.reps) * 1e3:.6g}" for f in steps))
        return 0
    figures = {}
    for kind in ("lazuli", "torch"):
        env = dict(os.environ)
        if kind == "torch":  # PyTorch in its best configuration here: see compare.py
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from compare import PEER_ENV
            env.update(PEER_ENV)
            env["OMP_NUM_THREADS"] = str(args.threads)
        r = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--only", kind,
             "--threads", str(args.threads), "--reps", str(args.reps)],
            capture_output=True, text=True, env=env,
        )
        if r.returncode != 0:
            if kind == "lazuli":
                print(r.stderr, file=sys.stderr)
                return 1
            figures[kind] = None
            continue
        figures[kind] = [float(v) for v in r.stdout.split()]
    print(f"# {args.threads} threads; ratio = how many times faster Lazuli is (> 1: Lazuli wins)")
    print(f"{'figure':32s} {'lazuli':>10s} {'torch':>10s} {'vs torch':>9s}")
    for i, name in enumerate(["py_mlp_train_step_ms", "py_transformer_train_step_ms"]):
        lzv = figures["lazuli"][i]
        if figures["torch"] is None:
            print(f"{name:32s} {lzv:10.4g} {'n/a':>10s} {'':>9s}  ms")
        else:
            tv = figures["torch"][i]
            print(f"{name:32s} {lzv:10.4g} {tv:10.4g} {tv / lzv:9.2f}  ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
