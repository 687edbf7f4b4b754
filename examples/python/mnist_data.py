"""Fashion-MNIST from Debian's dataset-fashion-mnist package (IDX files, gzipped), as NumPy
arrays: images scaled to [0, 1] and flattened to 784 features, labels as uint32."""
import gzip
import os

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] or data[1] or data[2] != 8:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return body.reshape(dims)


def fashion_mnist(root=None):
    """(train_x, train_y, test_x, test_y)."""
    root = root or os.environ.get("FASHION_MNIST_DIR", DEFAULT_DIR)
    if not os.path.isdir(root):
        raise SystemExit(
            f"Fashion-MNIST not found in {root}: apt-get install dataset-fashion-mnist"
        )

    def load(prefix):
        x = _read_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz"))
        y = _read_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte.gz"))
        return x.reshape(len(x), -1).astype(np.float32) / 255.0, y.astype(np.uint32)

    train_x, train_y = load("train")
    test_x, test_y = load("t10k")
    return train_x, train_y, test_x, test_y
