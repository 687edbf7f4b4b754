"""Data-parallel training of an MLP on Fashion-MNIST, written for MLX. Each process takes its
shard of every global batch, the gradients are averaged over the processes each step
(nn.average_gradients), and rank 0 prints the global loss and accuracy. On one machine:

    mpirun -np 2 python3 -m lazuli.run examples/python/mlp_distributed.py

(as root in a container add --allow-run-as-root; see the README for several hosts).
`--check` trains a few steps and, on rank 0, the same steps on one process over the whole
global batches: the losses must agree to float tolerance."""
import argparse
import time

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np

import mnist_data


class MLP(nn.Module):
    def __init__(self, num_layers: int, input_dim: int, hidden_dim: int, output_dim: int):
        super().__init__()
        sizes = [input_dim] + [hidden_dim] * num_layers + [output_dim]
        self.layers = [nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:])]

    def __call__(self, x):
        for l in self.layers[:-1]:
            x = nn.relu(l(x))
        return self.layers[-1](x)


def loss_fn(model, X, y):
    return nn.losses.cross_entropy(model(X), y, reduction="mean")


def global_batches(n, batch_size, seed):
    """The same sequence of global batches on every rank."""
    perm = np.random.RandomState(seed).permutation(n)
    for s in range(0, n - batch_size + 1, batch_size):
        yield perm[s : s + batch_size]


def train(args, X, y, group, steps=None):
    """Trains and returns the global loss of every step. With group None: one process."""
    rank, size = (group.rank(), group.size()) if group is not None else (0, 1)
    mx.random.seed(args.seed)  # the same initial weights everywhere
    model = MLP(args.num_layers, X.shape[-1], args.hidden_dim, 10)
    mx.eval(model.parameters())
    loss_and_grad = nn.value_and_grad(model, loss_fn)
    optimizer = optim.SGD(learning_rate=args.lr)
    shard = args.batch_size // size
    losses = []
    for e in range(args.epochs):
        tic = time.perf_counter()
        for ids in global_batches(len(y), args.batch_size, args.seed + e):
            mine = ids[rank * shard : (rank + 1) * shard]
            loss, grads = loss_and_grad(model, mx.array(X[mine]), mx.array(y[mine]))
            if group is not None:
                grads = nn.average_gradients(grads, group=group)
                loss = mx.distributed.all_sum(loss, group=group) / size
            optimizer.update(model, grads)
            mx.eval(model.parameters(), optimizer.state, loss)
            losses.append(loss.item())
            if steps is not None and len(losses) == steps:
                return losses, model
        if rank == 0 and steps is None:
            print(f"Epoch {e}: Train loss {np.mean(losses[-20:]):.3f}, "
                  f"Time {time.perf_counter() - tic:.3f} (s)", flush=True)
    return losses, model


def main():
    parser = argparse.ArgumentParser("Data-parallel MLP on Fashion-MNIST with MLX.")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256, help="global batch size")
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--hidden-dim", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-1)
    parser.add_argument("--subset", type=int, default=0, help="use only the first N images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", type=int, default=0, metavar="STEPS",
                        help="train STEPS steps and compare with one process (rank 0)")
    args = parser.parse_args()
    group = mx.distributed.init()
    rank, size = group.rank(), group.size()
    if args.batch_size % size:
        raise SystemExit(f"the batch size {args.batch_size} must be a multiple of {size}")
    train_x, train_y, test_x, test_y = mnist_data.fashion_mnist()
    if args.subset:
        train_x, train_y = train_x[: args.subset], train_y[: args.subset]
        test_x, test_y = test_x[: args.subset], test_y[: args.subset]
    if args.check:
        losses, _ = train(args, train_x, train_y, group, steps=args.check)
        if rank == 0:
            ref, _ = train(args, train_x, train_y, None, steps=args.check)
            print(f"{size} processes: loss {losses[0]:.6f} -> {losses[-1]:.6f}")
            print(f"1 process:   loss {ref[0]:.6f} -> {ref[-1]:.6f}")
            if not np.allclose(losses, ref, rtol=1e-4, atol=1e-5):
                raise SystemExit("the data-parallel losses differ from one process's")
        return
    losses, model = train(args, train_x, train_y, group)
    # Each rank scores its shard of the test set; the counts are summed over the group.
    n = len(test_y) // size
    xs, ys = mx.array(test_x[rank * n : (rank + 1) * n]), mx.array(test_y[rank * n : (rank + 1) * n])
    correct = mx.distributed.all_sum(mx.sum(mx.argmax(model(xs), axis=1) == ys), group=group)
    accuracy = correct.item() / (n * size)  # every rank evaluates the collective
    if rank == 0:
        print(f"{size} processes: final train loss {np.mean(losses[-20:]):.3f}, "
              f"test accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
