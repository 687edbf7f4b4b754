"""A character-level transformer language model trained on the fortunes of Debian's
fortunes package, written for MLX, with a compiled training step. Run it on Lazuli with

    python3 -m lazuli.run examples/python/transformer_lm.py

(`--smoke` trains on a small budget and fails unless the loss falls)."""
import argparse
import math
import os
import time
from functools import partial

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
from mlx.utils import tree_flatten

FORTUNES = "/usr/share/games/fortunes"


def load_text(root, max_chars):
    if not os.path.isdir(root):
        raise SystemExit(f"No fortunes in {root}: apt-get install fortunes")
    parts, total = [], 0
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if "." in name or not os.path.isfile(path):
            continue  # skip the .dat indexes and .u8 links
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="ignore")
        parts.append(text.replace("\n%\n", "\n\n"))
        total += len(text)
        if total >= max_chars:
            break
    text = "".join(parts)[:max_chars]
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    return np.array([index[c] for c in text], dtype=np.uint32), vocab


class TransformerLM(nn.Module):
    def __init__(self, vocab_size: int, num_layers: int, dims: int, num_heads: int, context: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dims)
        self.pe = nn.SinusoidalPositionalEncoding(dims)
        self.transformer = nn.TransformerEncoder(num_layers, dims, num_heads, norm_first=True)
        self.out_proj = nn.Linear(dims, vocab_size)

    def __call__(self, x):
        L = x.shape[1]
        mask = nn.MultiHeadAttention.create_additive_causal_mask(L)
        x = self.embedding(x)
        x = x + self.pe(mx.arange(L))
        x = self.transformer(x, mask)
        return self.out_proj(x)


def to_samples(data, context_size):
    window = context_size + 1
    n = (len(data) - 1) // context_size
    idx = np.arange(n)[:, None] * context_size + np.arange(window)[None]
    idx = idx[idx[:, -1] < len(data)]
    s = data[idx]
    return s[:, :-1], s[:, 1:]


def iterate_batches(batch_size, inputs, targets):
    while True:
        perm = np.random.permutation(len(inputs))
        for s in range(0, len(inputs) - batch_size + 1, batch_size):
            ids = perm[s : s + batch_size]
            yield mx.array(inputs[ids]), mx.array(targets[ids])


def main(args):
    np.random.seed(args.seed)
    mx.random.seed(args.seed)
    data, vocab = load_text(args.data, args.max_chars)
    inputs, targets = to_samples(data, args.context_size)

    model = TransformerLM(len(vocab), args.num_blocks, args.dim, args.num_heads, args.context_size)
    mx.eval(model.parameters())
    nparams = sum(x.size for k, x in tree_flatten(model.parameters()) if "embedding" not in k)
    print(f"Training a transformer with {nparams / 1e3:.1f} K parameters on {len(data)} characters")

    def loss_fn(model, x, y):
        logits = model(x)
        return nn.losses.cross_entropy(logits, y, reduction="mean")

    optimizer = optim.AdamW(learning_rate=args.learning_rate, weight_decay=args.weight_decay)
    loss_and_grad_fn = nn.value_and_grad(model, loss_fn)
    optimizer.init(model.trainable_parameters())
    state = [model.state, optimizer.state]

    @partial(mx.compile, inputs=state, outputs=state)
    def step(inputs, targets):
        loss, grads = loss_and_grad_fn(model, inputs, targets)
        optimizer.update(model, grads)
        return loss

    losses = []
    tic = time.perf_counter()
    batches = iterate_batches(args.batch_size, inputs, targets)
    for it in range(args.num_iters):
        x, y = next(batches)
        loss = step(x, y)
        mx.eval(state)
        losses.append(loss.item())
        if (it + 1) % args.steps_per_report == 0:
            toc = time.perf_counter()
            print(
                f"Iter {it + 1}: Train loss {np.mean(losses[-args.steps_per_report:]):.3f}, "
                f"It/sec {args.steps_per_report / (toc - tic):.3f}"
            )
            tic = time.perf_counter()
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser("Train a character-level transformer LM with MLX.")
    parser.add_argument("--data", default=FORTUNES)
    parser.add_argument("--max-chars", type=int, default=400_000)
    parser.add_argument("--context-size", type=int, default=64)
    parser.add_argument("--num-blocks", type=int, default=2)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--num-iters", type=int, default=1000)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-5)
    parser.add_argument("--steps-per-report", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="small budget; fail unless the loss falls")
    args = parser.parse_args()
    if args.smoke:
        args.num_iters, args.max_chars, args.context_size, args.dim = 60, 50_000, 32, 32
        args.num_blocks, args.batch_size, args.steps_per_report = 1, 8, 20
    losses = main(args)
    if args.smoke:
        first, last = np.mean(losses[:5]), np.mean(losses[-5:])
        print(f"loss {first:.3f} -> {last:.3f}")
        if not (last < 0.85 * first and math.isfinite(last)):
            raise SystemExit("the loss did not fall")
