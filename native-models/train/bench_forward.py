"""Eager-PyTorch forward time of the bundled UNets, for `npm run bench`.

Prints one JSON line: {"fashion": {"1": sec, "64": sec}, "emoji": {...}, "threads": N}.
Weights are random: a forward's time does not depend on their values, only on
the architecture, which is the one train_unet.py trains and export_unet.py exports.
"""
import json
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from unet import UNet  # noqa: E402

NETWORKS = {
    "fashion": dict(in_ch=1, size=28, num_classes=10),
    "emoji": dict(in_ch=3, size=32, num_classes=0),
}


def seconds_per_forward(net, in_ch, size, num_classes, batch, repeats):
    x = torch.randn(batch, in_ch, size, size)
    t = torch.full((batch,), 500, dtype=torch.long)
    y = torch.zeros(batch, dtype=torch.long) if num_classes else None
    with torch.inference_mode():
        for _ in range(3):
            net(x, t, y)
        start = time.perf_counter()
        for _ in range(repeats):
            net(x, t, y)
    return (time.perf_counter() - start) / repeats


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    result = {"threads": threads}
    for name, spec in NETWORKS.items():
        net = UNet(in_ch=spec["in_ch"], chs=(16, 32, 64), num_classes=spec["num_classes"], attn=True).eval()
        result[name] = {str(b): seconds_per_forward(net, spec["in_ch"], spec["size"], spec["num_classes"], b, 30 if b == 1 else 5)
                        for b in (1, 64)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
