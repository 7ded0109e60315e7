"""Fashion-MNIST IDX loader (Debian package dataset-fashion-mnist)."""
import gzip
import os

import numpy as np

ROOT = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def _read(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split="train"):
    """Return (images uint8 [N,28,28], labels int64 [N])."""
    pre = "train" if split == "train" else "t10k"
    x = _read(os.path.join(ROOT, f"{pre}-images-idx3-ubyte.gz"))
    y = _read(os.path.join(ROOT, f"{pre}-labels-idx1-ubyte.gz")).astype(np.int64)
    return x, y


def to_float(x_u8):
    """uint8 -> float in [-1, 1] as x/127.5 - 1."""
    return x_u8.astype(np.float64) / 127.5 - 1.0
