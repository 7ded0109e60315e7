"""Time training iterations of UNet sizes (batch 128) to choose one for the CPU budget.

  /usr/bin/python3 native-models/train/bench_unet.py --threads 1 --chs 16,32,64 --size 28 --in-ch 1
"""
import argparse
import sys
import os
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet import UNet, count_params  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--chs", action="append", default=None)
ap.add_argument("--size", type=int, default=28)
ap.add_argument("--in-ch", type=int, default=1)
ap.add_argument("--classes", type=int, default=10)
ap.add_argument("--no-attn", action="store_true")
ap.add_argument("--iters", type=int, default=5)
a = ap.parse_args()
torch.set_num_threads(a.threads)
for chs in a.chs or ["16,32,64"]:
    m = UNet(a.in_ch, tuple(int(c) for c in chs.split(",")), a.classes, not a.no_attn, 1, True)
    opt = torch.optim.Adam(m.parameters(), 2e-4)
    x = torch.randn(128, a.in_ch, a.size, a.size)
    t = torch.randint(0, 1000, (128,))
    y = torch.randint(0, a.classes + 1, (128,)) if a.classes else None
    ts = []
    for _ in range(a.iters):
        t0 = time.time()
        loss = (m(x, t, y) - x).pow(2).mean()
        opt.zero_grad(); loss.backward(); opt.step()
        ts.append(time.time() - t0)
    print(f"chs {chs}: {count_params(m)} params, {min(ts[1:]):.3f} s/it (min), {sorted(ts[1:])[len(ts) // 2 - 1]:.3f} (median)", flush=True)
