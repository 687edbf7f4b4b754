"""Train the Fashion-MNIST MLP of mlp.py, export its forward pass with mx.exporter (one trace
per batch size used at test time), import the file back and classify the test set with the
imported function alone. Written for MLX; run it on Lazuli with

    python3 -m lazuli.run examples/python/mlp_export.py [--out model.mlxfn]

It prints the file's size and the import time, and fails unless the imported function gives
exactly the trained model's logits (`--smoke`: a small budget)."""
import argparse
import os
import tempfile
import time

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np

import mnist_data
from mlp import MLP, batch_iterate, loss_fn


def train(args, train_images, train_labels):
    model = MLP(args.num_layers, train_images.shape[-1], args.hidden_dim, 10)
    mx.eval(model.parameters())
    loss_and_grad_fn = nn.value_and_grad(model, loss_fn)
    optimizer = optim.SGD(learning_rate=args.lr)
    losses = []
    for _ in range(args.epochs):
        for X, y in batch_iterate(args.batch_size, train_images, train_labels):
            loss, grads = loss_and_grad_fn(model, X, y)
            optimizer.update(model, grads)
            mx.eval(model.parameters(), optimizer.state)
            losses.append(loss.item())
    return model, losses


def batches(n, size):
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def main(args):
    np.random.seed(args.seed)
    mx.random.seed(args.seed)
    train_x, train_y, test_x, test_y = mnist_data.fashion_mnist()
    if args.subset:
        train_x, train_y = train_x[: args.subset], train_y[: args.subset]
        test_x, test_y = test_x[: args.subset // 4], test_y[: args.subset // 4]
    model, losses = train(args, mx.array(train_x), mx.array(train_y))

    # The forward pass as a file: the weights are captured as constants. A trace has fixed
    # shapes, so the exporter gets one per batch size the test set needs.
    def forward(x):
        return model(x)

    path = args.out
    sizes = sorted({e - s for s, e in batches(len(test_x), args.eval_batch)})
    with mx.exporter(path, forward) as exporter:
        for size in sizes:
            exporter(mx.zeros((size, test_x.shape[1])))

    tic = time.perf_counter()
    imported = mx.import_function(path)
    import_ms = 1e3 * (time.perf_counter() - tic)
    print(f"{path}: {os.path.getsize(path)} bytes, {len(sizes)} traces, "
          f"imported in {import_ms:.2f} ms")

    correct = {"trained": 0, "imported": 0}
    same = True
    for s, e in batches(len(test_x), args.eval_batch):
        x, y = mx.array(test_x[s:e]), mx.array(test_y[s:e])
        want = model(x)
        (got,) = imported(x)
        same = same and np.array_equal(np.array(want), np.array(got))
        correct["trained"] += mx.sum(mx.argmax(want, axis=1) == y).item()
        correct["imported"] += mx.sum(mx.argmax(got, axis=1) == y).item()
    for k, v in correct.items():
        print(f"{k} model: test accuracy {100 * v / len(test_x):.2f}%")
    if not same:
        raise SystemExit("the imported function's logits differ from the trained model's")
    print(f"loss {np.mean(losses[:5]):.3f} -> {np.mean(losses[-5:]):.3f}")
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser("Export a trained Fashion-MNIST MLP and import it back.")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--eval-batch", type=int, default=1000)
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--hidden-dim", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-1)
    parser.add_argument("--subset", type=int, default=0, help="use only the first N images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="", help="where to write the exported function")
    parser.add_argument("--smoke", action="store_true", help="small budget; fail unless the loss falls")
    args = parser.parse_args()
    if args.smoke:
        args.epochs, args.subset, args.batch_size, args.eval_batch = 2, 2000, 64, 300
    if args.out:
        losses = main(args)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            args.out = os.path.join(tmp, "mlp.mlxfn")
            losses = main(args)
    if args.smoke and not np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5]):
        raise SystemExit("the loss did not fall")
