"""Fashion-MNIST statistics for the analytic models (Gaussian, GMM, delta).

Writes native-models/fashion-mnist-{gaussian,gmm,delta}/{stats.safetensors,manifest.json}.
Pixels are scaled to [-1, 1] as x/127.5 - 1; D = 784 (1x28x28, row-major).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fmnist  # noqa: E402
from safetensors_io import save_file  # noqa: E402

MODELS = os.path.dirname(HERE)
IMAGE = {"channels": 1, "height": 28, "width": 28, "range": [-1, 1]}
CARD = ("Fashion-MNIST training set (Xiao, Rasul & Vollgraf 2017, Zalando Research), "
        "MIT licence. Statistics computed by native-models/train/make_stats.py. See MODEL_CARD.md.")


def write_manifest(folder, manifest):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")


def eig_desc(cov):
    w, v = np.linalg.eigh(cov)
    order = np.argsort(w)[::-1]
    w = np.clip(w[order], 0.0, None)
    return w, v[:, order]


def gaussian(x, out):
    mean = x.mean(0)
    xc = x - mean
    cov = xc.T @ xc / (x.shape[0] - 1)
    w, v = eig_desc(cov)
    total = np.trace(cov)
    print(f"[gaussian] total variance {total:.4f}  sum eigvals {w.sum():.4f}  "
          f"top eigval {w[0]:.4f}  top-10 {np.round(w[:10], 3).tolist()}  "
          f"#>1e-6 {(w > 1e-6).sum()}  frac top-50 {w[:50].sum() / w.sum():.4f}")
    save_file({"mean": mean.astype(np.float32), "eigvecs": v.astype(np.float32),
               "eigvals": w.astype(np.float32)}, os.path.join(out, "stats.safetensors"),
              {"dataset": "fashion-mnist train (60000)", "range": "[-1,1] as x/127.5-1",
               "total_variance": f"{total:.6f}", "covariance": "unbiased (N-1)"})
    write_manifest(out, {
        "id": "fashion-mnist-gaussian",
        "name": "Fashion-MNIST · Gaussian (analytic)",
        "description": "Exact denoiser of the Gaussian with the mean and full covariance of the "
                       "60,000 Fashion-MNIST training images (D = 784, all eigenvectors).",
        "kind": "gaussian",
        "image": IMAGE,
        "space": "pixel",
        "stats": "stats.safetensors",
        "sigmaMin": 0.002,
        "sigmaMax": 80,
        "card": CARD,
    })
    return mean, w


def gmm(x, y, out, k=96):
    C, D = 10, x.shape[1]
    weights = np.zeros(C); means = np.zeros((C, D)); vecs = np.zeros((C, D, k))
    vals = np.zeros((C, k)); resid = np.zeros(C)
    for c in range(C):
        xc = x[y == c]
        weights[c] = len(xc) / len(x)
        means[c] = xc.mean(0)
        d = xc - means[c]
        cov = d.T @ d / (len(xc) - 1)
        w, v = eig_desc(cov)
        vecs[c] = v[:, :k]; vals[c] = w[:k]; resid[c] = w[k:].mean()
        print(f"[gmm] class {c} {fmnist.CLASSES[c]:12s} n={len(xc)} total var {np.trace(cov):.3f} "
              f"top {w[0]:.3f} kept {w[:k].sum() / w.sum():.4f} residual var {resid[c]:.3e}")
    save_file({"weights": weights.astype(np.float32), "means": means.astype(np.float32),
               "eigvecs": vecs.astype(np.float32), "eigvals": vals.astype(np.float32),
               "residual_variance": resid.astype(np.float32)},
              os.path.join(out, "stats.safetensors"),
              {"dataset": "fashion-mnist train (60000)", "components": "one per class, label order",
               "K": str(k), "residual_variance": "mean of the discarded eigenvalues"})
    write_manifest(out, {
        "id": "fashion-mnist-gmm",
        "name": "Fashion-MNIST · Gaussian mixture (analytic)",
        "description": f"Mixture of 10 Gaussians, one per Fashion-MNIST class (weights = class "
                       f"frequencies), each with its class mean and top {k} covariance "
                       f"eigenvectors plus isotropic residual variance. A class label selects "
                       f"its component.",
        "kind": "gmm",
        "image": IMAGE,
        "space": "pixel",
        "conditioning": {"classes": fmnist.CLASSES},
        "stats": "stats.safetensors",
        "sigmaMin": 0.002,
        "sigmaMax": 80,
        "card": CARD,
    })


def delta(xu8, y, out, per_class=1000):
    counts = np.zeros(10, int)
    keep = []
    for i, c in enumerate(y):
        if counts[c] < per_class:
            keep.append(i); counts[c] += 1
    keep = np.array(keep)
    imgs = xu8[keep].reshape(len(keep), -1)
    save_file({"images": imgs.astype(np.uint8), "labels": y[keep].astype(np.int64)},
              os.path.join(out, "stats.safetensors"),
              {"dataset": "fashion-mnist train", "subset": f"first {per_class} of each class, training-set order",
               "training_indices_last": str(int(keep[-1])), "range": "uint8 0..255 -> [-1,1]"})
    print(f"[delta] {len(keep)} images, last training index used {keep[-1]}")
    write_manifest(out, {
        "id": "fashion-mnist-delta",
        "name": "Fashion-MNIST · Delta mixture (training set)",
        "description": f"Exact denoiser of the empirical distribution of a {len(keep):,}-image subset of "
                       f"the Fashion-MNIST training set: the first {per_class} training images of each "
                       f"class, kept in training-set order (indices 0..{int(keep[-1])} of the training "
                       f"file, uint8). Its samples retrieve training images.",
        "kind": "delta",
        "image": IMAGE,
        "space": "pixel",
        "conditioning": {"classes": fmnist.CLASSES},
        "stats": "stats.safetensors",
        "sigmaMin": 0.002,
        "sigmaMax": 80,
        "card": CARD,
    })


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    outs = {k: os.path.join(MODELS, f"fashion-mnist-{k}") for k in ("gaussian", "gmm", "delta")}
    if not args.force and all(os.path.exists(os.path.join(o, "stats.safetensors")) for o in outs.values()):
        print("stats exist; --force to recompute"); return
    t0 = time.time()
    xu8, y = fmnist.load("train")
    x = fmnist.to_float(xu8.reshape(len(xu8), -1))
    gaussian(x, outs["gaussian"])
    gmm(x, y, outs["gmm"])
    delta(xu8, y, outs["delta"])
    # test-set statistics, for reference (the judge stores its own feature statistics)
    xt = fmnist.to_float(fmnist.load("t10k")[0].reshape(10000, -1))
    print(f"[test] pixel mean {xt.mean():.4f} (train {x.mean():.4f}); total variance "
          f"{np.trace(np.cov(xt, rowvar=False)):.4f}")
    for k, o in outs.items():
        p = os.path.join(o, "stats.safetensors")
        print(f"{p}: {os.path.getsize(p) / 1e6:.2f} MB")
    print(f"done in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
