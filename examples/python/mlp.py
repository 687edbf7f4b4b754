"""A multi-layer perceptron on Fashion-MNIST, written for MLX. Run it on Lazuli with

    python3 -m lazuli.run examples/python/mlp.py

(`--smoke` trains on a small budget and fails unless the loss falls)."""
import argparse
import time

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np

import mnist_data


class MLP(nn.Module):
    """A simple MLP."""

    def __init__(self, num_layers: int, input_dim: int, hidden_dim: int, output_dim: int):
        super().__init__()
        layer_sizes = [input_dim] + [hidden_dim] * num_layers + [output_dim]
        self.layers = [
            nn.Linear(idim, odim) for idim, odim in zip(layer_sizes[:-1], layer_sizes[1:])
        ]

    def __call__(self, x):
        for l in self.layers[:-1]:
            x = nn.relu(l(x))
        return self.layers[-1](x)


def loss_fn(model, X, y):
    return nn.losses.cross_entropy(model(X), y, reduction="mean")


def batch_iterate(batch_size, X, y):
    perm = mx.array(np.random.permutation(y.size))
    for s in range(0, y.size, batch_size):
        ids = perm[s : s + batch_size]
        yield X[ids], y[ids]


def main(args):
    np.random.seed(args.seed)
    mx.random.seed(args.seed)
    train_x, train_y, test_x, test_y = mnist_data.fashion_mnist()
    if args.subset:
        train_x, train_y = train_x[: args.subset], train_y[: args.subset]
        test_x, test_y = test_x[: args.subset], test_y[: args.subset]
    train_images, train_labels, test_images, test_labels = map(
        mx.array, (train_x, train_y, test_x, test_y)
    )

    model = MLP(args.num_layers, train_images.shape[-1], args.hidden_dim, 10)
    mx.eval(model.parameters())

    loss_and_grad_fn = nn.value_and_grad(model, loss_fn)
    optimizer = optim.SGD(learning_rate=args.lr)

    def eval_fn(X, y):
        return mx.mean(mx.argmax(model(X), axis=1) == y)

    losses = []
    for e in range(args.epochs):
        tic = time.perf_counter()
        for X, y in batch_iterate(args.batch_size, train_images, train_labels):
            loss, grads = loss_and_grad_fn(model, X, y)
            optimizer.update(model, grads)
            mx.eval(model.parameters(), optimizer.state)
            losses.append(loss.item())
        accuracy = eval_fn(test_images, test_labels)
        toc = time.perf_counter()
        print(
            f"Epoch {e}: Train loss {np.mean(losses[-20:]):.3f}, "
            f"Test accuracy {accuracy.item():.3f}, Time {toc - tic:.3f} (s)"
        )
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser("Train a simple MLP on Fashion-MNIST with MLX.")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--hidden-dim", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-1)
    parser.add_argument("--subset", type=int, default=0, help="use only the first N images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="small budget; fail unless the loss falls")
    args = parser.parse_args()
    if args.smoke:
        args.epochs, args.subset, args.batch_size = 2, 2000, 64
    losses = main(args)
    if args.smoke:
        first, last = np.mean(losses[:5]), np.mean(losses[-5:])
        print(f"loss {first:.3f} -> {last:.3f}")
        if not last < 0.8 * first:
            raise SystemExit("the loss did not fall")
