"""A small convolutional network on Fashion-MNIST, written for MLX. Run it on Lazuli with

    python3 -m lazuli.run examples/python/cnn.py

(`--smoke` trains on a small budget and fails unless the loss falls)."""
import argparse
import time

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np

import mnist_data


class CNN(nn.Module):
    """Two 3x3 convolutions with max pooling, then a linear classifier."""

    def __init__(self, channels: int = 8, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc = nn.Linear(7 * 7 * 2 * channels, num_classes)

    def __call__(self, x):
        x = self.pool(nn.relu(self.conv1(x)))
        x = self.pool(nn.relu(self.conv2(x)))
        return self.fc(x.reshape(x.shape[0], -1))


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
    n = args.subset or len(train_x)
    train_images = mx.array(train_x[:n].reshape(-1, 28, 28, 1))
    train_labels = mx.array(train_y[:n])
    test_images = mx.array(test_x[:n].reshape(-1, 28, 28, 1))
    test_labels = mx.array(test_y[:n])

    model = CNN(args.channels)
    mx.eval(model.parameters())
    optimizer = optim.Adam(learning_rate=args.lr)
    loss_and_grad_fn = nn.value_and_grad(model, loss_fn)

    losses = []
    for e in range(args.epochs):
        tic = time.perf_counter()
        model.train()
        for X, y in batch_iterate(args.batch_size, train_images, train_labels):
            loss, grads = loss_and_grad_fn(model, X, y)
            optimizer.update(model, grads)
            mx.eval(model.parameters(), optimizer.state)
            losses.append(loss.item())
        model.eval()
        accuracy = mx.mean(mx.argmax(model(test_images), axis=1) == test_labels)
        toc = time.perf_counter()
        print(
            f"Epoch {e}: Train loss {np.mean(losses[-20:]):.3f}, "
            f"Test accuracy {accuracy.item():.3f}, Time {toc - tic:.3f} (s)"
        )
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser("Train a small CNN on Fashion-MNIST with MLX.")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--subset", type=int, default=0, help="use only the first N images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="small budget; fail unless the loss falls")
    args = parser.parse_args()
    if args.smoke:
        args.epochs, args.subset, args.batch_size, args.lr = 1, 600, 32, 3e-3
    losses = main(args)
    if args.smoke:
        first, last = np.mean(losses[:3]), np.mean(losses[-3:])
        print(f"loss {first:.3f} -> {last:.3f}")
        if not last < 0.8 * first:
            raise SystemExit("the loss did not fall")
