"""Train the Fashion-MNIST judge: a small CNN classifier whose penultimate
features give a Frechet distance (FID analogue) and an Inception-Score analogue.

Writes native-models/fashion-mnist-judge/{model.onnx, judge.json, feature_stats.safetensors}.
Input x [B,1,28,28] float32 in [-1,1] (x/127.5-1); outputs logits [B,10], features [B,128].
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fmnist  # noqa: E402
from safetensors_io import save_file  # noqa: E402

OUT = os.path.join(os.path.dirname(HERE), "fashion-mnist-judge")
CKPT = os.path.join(HERE, "checkpoints", "judge")
FEAT = 128


class Judge(nn.Module):
    def __init__(self):
        super().__init__()
        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                                 nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                                 nn.MaxPool2d(2))
        self.body = nn.Sequential(block(1, 16), block(16, 32), block(32, 64))  # 28 -> 14 -> 7 -> 3
        self.fc = nn.Linear(64 * 3 * 3, FEAT)
        self.bn = nn.BatchNorm1d(FEAT)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(FEAT, 10)

    def forward(self, x):
        h = self.body(x).flatten(1)
        f = F.relu(self.bn(self.fc(self.drop(h))))
        return self.head(self.drop(f)), f


def to_tensor(x):
    return torch.from_numpy(x.astype(np.float32) / 127.5 - 1.0)[:, None]


@torch.no_grad()
def run(model, x, bs=1000):
    model.eval()
    L, Fs = [], []
    for i in range(0, len(x), bs):
        l, f = model(x[i:i + bs]); L.append(l); Fs.append(f)
    return torch.cat(L).double().numpy(), torch.cat(Fs).double().numpy()


def sqrtm_psd(a):
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet(m1, c1, m2, c2):
    s1 = sqrtm_psd(c1)
    cross = sqrtm_psd(s1 @ c2 @ s1)
    return float(((m1 - m2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * np.trace(cross))


def inception_score(logits):
    p = np.exp(logits - logits.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
    py = p.mean(0)
    kl = (p * (np.log(p + 1e-12) - np.log(py + 1e-12))).sum(1)
    return float(np.exp(kl.mean()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    xtr, ytr = fmnist.load("train"); xte, yte = fmnist.load("t10k")
    xtr, xte = to_tensor(xtr), to_tensor(xte)
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)
    model = Judge()
    steps_per_epoch = len(xtr) // 128
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=args.epochs * steps_per_epoch)
    epoch = 0
    os.makedirs(CKPT, exist_ok=True)
    ck = os.path.join(CKPT, "judge.pt")
    if os.path.exists(ck):
        s = torch.load(ck)
        model.load_state_dict(s["model"]); opt.load_state_dict(s["opt"]); sched.load_state_dict(s["sched"])
        epoch = s["epoch"]; torch.set_rng_state(s["rng"])
        print(f"resumed at epoch {epoch}", flush=True)
    print(f"judge params {sum(p.numel() for p in model.parameters())}", flush=True)
    while epoch < args.epochs:
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(xtr))
        tot = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * 128:(i + 1) * 128]
            xb = xtr[idx]
            flip = torch.rand(len(idx)) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            # random translation by up to 2 px
            dx, dy = np.random.randint(-2, 3, 2)
            xb = torch.roll(F.pad(xb, (2, 2, 2, 2), value=-1.0), (int(dy), int(dx)), (2, 3))[:, :, 2:30, 2:30]
            logits, _ = model(xb)
            loss = F.cross_entropy(logits, ytr[idx], label_smoothing=0.05)
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
            tot += loss.item()
        epoch += 1
        lt, _ = run(model, xte)
        acc = (lt.argmax(1) == yte.numpy()).mean()
        print(f"epoch {epoch}/{args.epochs} loss {tot / steps_per_epoch:.4f} test acc {acc:.4f} "
              f"{time.time() - t0:.0f}s", flush=True)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                    "epoch": epoch, "rng": torch.get_rng_state()}, ck + ".tmp")
        os.replace(ck + ".tmp", ck)

    # evaluation and statistics
    lt, ft = run(model, xte)
    ltr, ftr = run(model, xtr)
    acc = float((lt.argmax(1) == yte.numpy()).mean())
    train_acc = float((ltr.argmax(1) == ytr.numpy()).mean())
    mte, cte = ft.mean(0), np.cov(ft, rowvar=False)
    mtr, ctr = ftr.mean(0), np.cov(ftr, rowvar=False)
    fd = frechet(mtr, ctr, mte, cte)
    is_test, is_train = inception_score(lt), inception_score(ltr)
    # FD of a random 10k-subset of train vs full train (sampling-noise reference)
    rng = np.random.default_rng(0)
    sub = ftr[rng.choice(len(ftr), 10000, replace=False)]
    fd_sub = frechet(mtr, ctr, sub.mean(0), np.cov(sub, rowvar=False))
    print(f"test acc {acc:.4f} train acc {train_acc:.4f} FD(train,test) {fd:.4f} "
          f"FD(train, 10k train subset) {fd_sub:.4f} IS test {is_test:.4f} IS train {is_train:.4f}", flush=True)

    os.makedirs(OUT, exist_ok=True)
    save_file({"train_mean": mtr.astype(np.float32), "train_cov": ctr.astype(np.float32),
               "test_mean": mte.astype(np.float32), "test_cov": cte.astype(np.float32)},
              os.path.join(OUT, "feature_stats.safetensors"),
              {"features": f"judge penultimate layer ({FEAT}, after ReLU), eval mode",
               "train": "60000 Fashion-MNIST training images", "test": "10000 Fashion-MNIST test images",
               "covariance": "unbiased (N-1)"})
    model.eval()
    onnx_path = os.path.join(OUT, "model.onnx")
    torch.onnx.export(model, torch.zeros(2, 1, 28, 28), onnx_path, opset_version=17,
                      input_names=["x"], output_names=["logits", "features"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}})
    import onnx
    onnx.checker.check_model(onnx.load(onnx_path))
    # reference batch (first 8 test images) for verify_onnx.mjs (onnxruntime-node)
    with torch.no_grad():
        rl, rf = model(xte[:8])
    with open(os.path.join(CKPT, "onnx_reference.json"), "w") as f:
        json.dump({"model": onnx_path, "inputs": {"x": {"shape": [8, 1, 28, 28], "data": xte[:8].flatten().tolist()}},
                   "output": {"name": "logits", "shape": [8, 10], "data": rl.flatten().tolist()}}, f)
    judge = {
        "id": "fashion-mnist-judge",
        "name": "Fashion-MNIST judge (CNN classifier)",
        "description": "Small CNN trained on the Fashion-MNIST training set. Its penultimate-layer features "
                       "give a Frechet distance to the data (FID analogue) and its class probabilities an "
                       "Inception-Score analogue.",
        "model": "model.onnx",
        "inputs": [{"name": "x", "dtype": "float32", "shape": ["batch", 1, 28, 28], "range": [-1, 1],
                    "note": "pixels x/127.5-1, NCHW"}],
        "outputs": [{"name": "logits", "dtype": "float32", "shape": ["batch", 10]},
                    {"name": "features", "dtype": "float32", "shape": ["batch", FEAT],
                     "note": "penultimate layer, after ReLU"}],
        "classes": fmnist.CLASSES,
        "featureDim": FEAT,
        "testAccuracy": round(acc, 4),
        "trainAccuracy": round(train_acc, 4),
        "featureStats": "feature_stats.safetensors",
        "featureStatsTensors": {"train_mean": [FEAT], "train_cov": [FEAT, FEAT],
                                "test_mean": [FEAT], "test_cov": [FEAT, FEAT]},
        "frechetFloor": {"value": round(fd, 4),
                         "definition": "Frechet distance between judge features of the 60,000 training and the "
                                       "10,000 test images: the score of a perfect sampler evaluated with 10k samples "
                                       "against train statistics",
                         "trainVsTrainSubset10k": round(fd_sub, 4)},
        "inceptionScore": {"test": round(is_test, 4), "train": round(is_train, 4),
                           "definition": "exp(E_x[KL(p(y|x) || p(y))]), p(y) the mean prediction over the set"},
        "featureTrace": {"train": round(float(np.trace(ctr)), 4), "test": round(float(np.trace(cte)), 4),
                         "note": "trace of the feature covariance, the scale against which the Frechet distance reads"},
        "params": sum(p.numel() for p in model.parameters()),
        "epochs": args.epochs,
        "card": "Fashion-MNIST (Zalando Research, MIT licence). Trained by native-models/train/train_judge.py.",
    }
    with open(os.path.join(OUT, "judge.json"), "w") as f:
        json.dump(judge, f, indent=2); f.write("\n")
    print(json.dumps({k: judge[k] for k in ("testAccuracy", "frechetFloor", "inceptionScore", "params")}), flush=True)


if __name__ == "__main__":
    main()
