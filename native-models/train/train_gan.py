"""Train a class-conditional DCGAN on Fashion-MNIST and export its generator to ONNX.

Generator G(z, y): z ~ N(0, I_64) and a class label y in 0..9 -> a 1x28x28 image in [-1, 1]
(Linear to 64x7x7, two nearest-neighbour upsamplings 7->14->28 each followed by a 3x3
convolution, BatchNorm and ReLU, then a 3x3 convolution + tanh; transposed convolutions are
10x slower in Debian's CPU torch). Discriminator: spectrally normalised convolutions 28->14->7->4 with
LeakyReLU, a minibatch-standard-deviation feature against mode collapse (Karras et al. 2018)
and a projection head for the class (Miyato & Koyama 2018); hinge loss, Adam with the two
time-scale rule (G lr 1e-4, D lr 4e-4, betas 0/0.9), batch 64, one D step per G step. The exported generator is an
exponential moving average of G's weights (decay 0.999) whose BatchNorm statistics are
re-estimated over 50 batches at export (the EMA weights never saw the running statistics).

Checkpoints every --ckpt-every seconds into --ckpt-dir; a rerun resumes from the newest one.

  /usr/bin/python3 native-models/train/train_gan.py --threads 1 --max-steps 12000
  /usr/bin/python3 native-models/train/train_gan.py --export-only   # newest checkpoint -> native-models/fashion-mnist-gan/
"""
import argparse
import copy
import glob
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import fmnist  # noqa: E402

OUT = os.path.join(MODELS, "fashion-mnist-gan")
Z = 64
NCLS = 10


class Generator(nn.Module):
    def __init__(self, z=Z, ncls=NCLS, ch=64):
        super().__init__()
        self.ch = ch
        self.emb = nn.Embedding(ncls, z)
        self.fc = nn.Linear(2 * z, ch * 7 * 7)
        self.bn0 = nn.BatchNorm2d(ch)
        self.up1 = nn.Conv2d(ch, ch // 2, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(ch // 2)
        self.up2 = nn.Conv2d(ch // 2, ch // 4, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(ch // 4)
        self.out = nn.Conv2d(ch // 4, 1, 3, 1, 1)

    def forward(self, z, y):
        h = self.fc(torch.cat([z, self.emb(y)], 1)).view(-1, self.ch, 7, 7)
        h = F.relu(self.bn0(h))
        h = F.relu(self.bn1(self.up1(F.interpolate(h, scale_factor=2.0, mode="nearest"))))
        h = F.relu(self.bn2(self.up2(F.interpolate(h, scale_factor=2.0, mode="nearest"))))
        return torch.tanh(self.out(h))


class Discriminator(nn.Module):
    def __init__(self, ncls=NCLS, ch=32):
        super().__init__()
        sn = nn.utils.spectral_norm
        self.body = nn.Sequential(
            sn(nn.Conv2d(1, ch, 3, 1, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(ch, ch, 4, 2, 1)), nn.LeakyReLU(0.2),            # 14
            sn(nn.Conv2d(ch, 2 * ch, 3, 1, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(2 * ch, 2 * ch, 4, 2, 1)), nn.LeakyReLU(0.2),    # 7
            sn(nn.Conv2d(2 * ch, 4 * ch, 3, 2, 1)), nn.LeakyReLU(0.2),    # 4
        )
        self.lin = sn(nn.Linear(4 * ch * 16 + 1, 1))
        self.proj = sn(nn.Embedding(ncls, 4 * ch * 16))

    def forward(self, x, y):
        h = self.body(x).flatten(1)
        # minibatch standard deviation (Karras et al. 2018): lets D see a batch without variety (mode collapse)
        spread = h.std(0, unbiased=False).mean().expand(h.shape[0], 1)
        return self.lin(torch.cat([h, spread], 1)).squeeze(1) + (self.proj(y) * h).sum(1)


def latest(d):
    f = sorted(glob.glob(os.path.join(d, "gan-*.pt")))
    return f[-1] if f else None


def save(d, step, G, D, Gema, oG, oD, log, keep=2):
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, f"gan-{step:07d}.pt")
    torch.save({"step": step, "G": G.state_dict(), "D": D.state_dict(), "Gema": Gema.state_dict(),
                "oG": oG.state_dict(), "oD": oD.state_dict(), "rng": torch.get_rng_state(), "log": log}, p + ".tmp")
    os.replace(p + ".tmp", p)
    for old in sorted(glob.glob(os.path.join(d, "gan-*.pt")))[:-keep]:
        os.remove(old)
    return p


@torch.no_grad()
def recalibrate_bn(G, n_batches=50, bs=256, seed=123):
    """Re-estimate BatchNorm running statistics for (EMA) weights: cumulative average over n_batches."""
    g = torch.Generator().manual_seed(seed)
    for m in G.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats(); m.momentum = None
    G.train()
    for _ in range(n_batches):
        G(torch.randn(bs, Z, generator=g), torch.randint(0, NCLS, (bs,), generator=g))
    G.eval()


@torch.no_grad()
def grid(G, path, per=10, seed=0):
    from PIL import Image
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(NCLS * per, Z, generator=g)
    y = torch.arange(NCLS).repeat_interleave(per)
    img = ((G(z, y).clamp(-1, 1) + 1) * 127.5).round().byte().numpy()[:, 0]
    im = img.reshape(NCLS, per, 28, 28).transpose(0, 2, 1, 3).reshape(NCLS * 28, per * 28)
    Image.fromarray(im).resize((per * 28 * 3, NCLS * 28 * 3), Image.NEAREST).save(path)


def export(ckpt, out, threads=1):
    import onnx
    s = torch.load(ckpt, map_location="cpu")
    G = Generator()
    G.load_state_dict(s["Gema"])
    recalibrate_bn(G)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    z = torch.randn(2, Z)
    y = torch.tensor([3, 7])
    torch.onnx.export(G, (z, y), path + ".tmp", opset_version=17, input_names=["z", "y"], output_names=["x"],
                      dynamic_axes={"z": {0: "batch"}, "y": {0: "batch"}, "x": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path + ".tmp"))
    os.replace(path + ".tmp", path)
    # reference batch for verify (torch vs onnxruntime-node)
    g = torch.Generator().manual_seed(1)
    rz = torch.randn(5, Z, generator=g)
    ry = torch.tensor([0, 3, 5, 7, 9])
    with torch.no_grad():
        rx = G(rz, ry)
    ref = {"model": os.path.abspath(path),
           "inputs": {"z": {"shape": [5, Z], "dtype": "float32", "data": rz.flatten().tolist()}, "y": {"shape": [5], "data": ry.tolist()}},
           "output": {"name": "x", "shape": list(rx.shape), "data": rx.flatten().tolist()}}
    with open(os.path.join(os.path.dirname(ckpt), "gan_reference.json"), "w") as f:
        json.dump(ref, f)
    grid(G, os.path.join(os.path.dirname(ckpt), f"samples-{s['step']:07d}.png"))
    params = sum(p.numel() for p in G.parameters())
    manifest = {
        "id": "fashion-mnist-gan",
        "name": "Fashion-MNIST · DCGAN generator (class-conditional)",
        "description": (f"Class-conditional DCGAN generator ({params / 1e6:.2f} M parameters, latent z ~ N(0, I_{Z})) trained "
                        f"for {s['step']} steps of batch 64 (hinge loss, spectral-norm projection discriminator). One step from z "
                        "to an image: no timeline. For the GAN analogy (painter analyze gan-analogy)."),
        "kind": "gan",
        "image": {"channels": 1, "height": 28, "width": 28, "range": [-1, 1]},
        "space": "pixel",
        "conditioning": {"classes": fmnist.CLASSES},
        "gan": {"file": "model.onnx", "latent": {"name": "z", "dim": Z}, "classLabel": {"name": "y", "dtype": "int64"},
                "output": {"name": "x"}},
        "stats": "../fashion-mnist-gaussian/stats.safetensors",
        "judge": "../fashion-mnist-judge",
        "card": "See MODEL_CARD.md. Fashion-MNIST training set, 60,000 28x28 greyscale images (Xiao, Rasul & Vollgraf 2017, "
                "Zalando Research), MIT licence.",
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"exported step {s['step']} ({params} generator parameters) to {path} "
          f"({os.path.getsize(path) / 1e6:.2f} MB)", flush=True)
    return s, params


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-steps", type=int, default=12000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-4, help="generator learning rate")
    ap.add_argument("--lr-d", type=float, default=4e-4, help="discriminator learning rate (two time-scale update rule)")
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ckpt-dir", default=os.path.join(HERE, "checkpoints", "gan"))
    ap.add_argument("--ckpt-every", type=float, default=180.0, help="seconds")
    ap.add_argument("--log-every", type=int, default=200)
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.export_only:
        ck = latest(args.ckpt_dir)
        if not ck:
            raise SystemExit(f"no checkpoint in {args.ckpt_dir}")
        export(ck, args.out)
        return
    torch.manual_seed(args.seed)
    xu8, yall = fmnist.load("train")
    X = torch.from_numpy(xu8.astype(np.float32) / 127.5 - 1.0)[:, None]
    Y = torch.from_numpy(yall)
    G, D = Generator(), Discriminator()
    Gema = copy.deepcopy(G).requires_grad_(False)
    oG = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.0, 0.9))
    oD = torch.optim.Adam(D.parameters(), lr=args.lr_d, betas=(0.0, 0.9))
    step, log = 0, []
    ck = latest(args.ckpt_dir)
    if ck:
        s = torch.load(ck, map_location="cpu")
        G.load_state_dict(s["G"]); D.load_state_dict(s["D"]); Gema.load_state_dict(s["Gema"])
        oG.load_state_dict(s["oG"]); oD.load_state_dict(s["oD"]); torch.set_rng_state(s["rng"])
        step, log = s["step"], s["log"]
        print(f"resumed from {ck} at step {step}", flush=True)
    print(f"G {sum(p.numel() for p in G.parameters())} params, D {sum(p.numel() for p in D.parameters())} params",
          flush=True)
    t0, tck, step0 = time.time(), time.time(), step
    acc = np.zeros(3)
    n = 0
    while step < args.max_steps:
        idx = torch.randint(0, len(X), (args.batch,))
        x, y = X[idx], Y[idx]
        z = torch.randn(args.batch, Z)
        yf = torch.randint(0, NCLS, (args.batch,))
        with torch.no_grad():
            xf = G(z, yf)
        ld = F.relu(1 - D(x, y)).mean() + F.relu(1 + D(xf, yf)).mean()
        oD.zero_grad(set_to_none=True); ld.backward(); oD.step()
        z = torch.randn(args.batch, Z)
        yf = torch.randint(0, NCLS, (args.batch,))
        lg = -D(G(z, yf), yf).mean()
        oG.zero_grad(set_to_none=True); lg.backward(); oG.step()
        with torch.no_grad():
            d = min(args.ema, (1 + step) / (10 + step))
            for pe, p in zip(Gema.parameters(), G.parameters()):
                pe.mul_(d).add_(p.detach(), alpha=1 - d)
            for be, b in zip(Gema.buffers(), G.buffers()):
                be.copy_(b)
        step += 1
        acc += [float(ld), float(lg), 1]
        if step % args.log_every == 0 or step == args.max_steps:
            el = time.time() - t0
            ips = (step - step0) / el
            log.append([step, acc[0] / acc[2], acc[1] / acc[2]])
            print(f"step {step}/{args.max_steps} D hinge {acc[0] / acc[2]:.4f} G {acc[1] / acc[2]:.4f} "
                  f"{ips:.2f} it/s ETA {(args.max_steps - step) / ips / 60:.1f} min", flush=True)
            acc[:] = 0
        if time.time() - tck > args.ckpt_every or step == args.max_steps:
            p = save(args.ckpt_dir, step, G, D, Gema, oG, oD, log)
            print(f"checkpoint {p}", flush=True)
            tck = time.time()
    p = save(args.ckpt_dir, step, G, D, Gema, oG, oD, log)
    print(f"done: {step} steps; {p}", flush=True)


if __name__ == "__main__":
    main()
