"""Emoji 32x32 RGB data set from the npm package emoji-datasource-google (Noto Emoji).

Fetches the package with `npm pack` into native-models/train/data-cache/ (gitignored),
takes the 64 px image of every base emoji (no skin-tone variants, no 'Component'
swatches), composites it onto white, downsamples to 32x32 (box filter) and writes
  data-cache/emoji32.npz       images uint8 [N,3,32,32], names
  data-cache/emoji32.json      provenance
  native-models/emoji32/stats.safetensors        mean [3072], eigvecs [3072,512], eigvals [512],
                                                 residual_variance [1]   (pixels in [-1,1])
  native-models/emoji32-delta/{stats.safetensors,manifest.json}   images U8 [N,3072]
Licences: images Noto Emoji, Apache License 2.0 (Google); package metadata MIT (Cal Henderson).
"""
import argparse
import io
import json
import os
import subprocess
import sys
import tarfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
CACHE = os.path.join(HERE, "data-cache")
sys.path.insert(0, HERE)
from safetensors_io import save_file  # noqa: E402

PKG = "emoji-datasource-google"
VERSION = "16.0.0"
K = 512
CARD = (f"Noto Emoji images (Google, Apache License 2.0, https://github.com/googlefonts/noto-emoji) from the npm "
        f"package {PKG}@{VERSION} (metadata MIT, Cal Henderson): every base emoji's 64 px image (no skin-tone "
        f"variants), composited onto white and downsampled to 32x32.")


def fetch():
    os.makedirs(CACHE, exist_ok=True)
    tgz = os.path.join(CACHE, f"{PKG}-{VERSION}.tgz")
    if not os.path.exists(tgz):
        subprocess.run(["npm", "pack", f"{PKG}@{VERSION}", "--pack-destination", CACHE], check=True)
    return tgz


def build(tgz):
    with tarfile.open(tgz) as tf:
        meta = json.load(tf.extractfile("package/emoji.json"))
        entries = sorted((e for e in meta if e.get("has_img_google") and e["category"] != "Component"),
                         key=lambda e: e["sort_order"])
        imgs, names = [], []
        for e in entries:
            try:
                f = tf.extractfile(f"package/img/google/64/{e['image']}")
            except KeyError:
                continue
            im = Image.open(io.BytesIO(f.read())).convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, im).convert("RGB").resize((32, 32), Image.BOX)
            imgs.append(np.asarray(im).transpose(2, 0, 1))
            names.append(e["short_name"])
    return np.stack(imgs).astype(np.uint8), names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    npz = os.path.join(CACHE, "emoji32.npz")
    stats = os.path.join(MODELS, "emoji32", "stats.safetensors")
    dstats = os.path.join(MODELS, "emoji32-delta", "stats.safetensors")
    if not args.force and all(os.path.exists(p) for p in (npz, stats, dstats)):
        print("emoji data exist; --force to rebuild"); return
    imgs, names = build(fetch())
    N = len(imgs)
    np.savez_compressed(npz, images=imgs, names=np.array(names))
    with open(os.path.join(CACHE, "emoji32.json"), "w") as f:
        json.dump({"count": N, "package": f"{PKG}@{VERSION}",
                   "card": CARD.replace("every base emoji", f"{N} images, every base emoji")}, f, indent=2)
    grid = imgs[:256].reshape(16, 16, 3, 32, 32).transpose(0, 3, 1, 4, 2).reshape(512, 512, 3)
    Image.fromarray(grid).save(os.path.join(CACHE, "emoji32-preview.png"))

    x = imgs.reshape(N, -1).astype(np.float64) / 127.5 - 1.0
    mean = x.mean(0)
    xc = x - mean
    cov = xc.T @ xc / (N - 1)
    w, v = np.linalg.eigh(cov)
    o = np.argsort(w)[::-1]
    w, v = np.clip(w[o], 0, None), v[:, o]
    total = np.trace(cov)
    resid = w[K:].mean()
    print(f"[emoji] N={N} D={x.shape[1]} total variance {total:.3f} sum eigvals {w.sum():.3f} top {w[0]:.3f} "
          f"top-10 {np.round(w[:10], 3).tolist()} kept by K={K}: {w[:K].sum() / w.sum():.4f} "
          f"residual variance {resid:.3e} rank {(w > 1e-9).sum()}")
    os.makedirs(os.path.dirname(stats), exist_ok=True)
    save_file({"mean": mean.astype(np.float32), "eigvecs": v[:, :K].astype(np.float32),
               "eigvals": w[:K].astype(np.float32), "residual_variance": np.array([resid], np.float32)},
              stats, {"dataset": f"{N} Noto emoji 32x32 on white", "range": "[-1,1] as x/127.5-1",
                      "K": str(K), "total_variance": f"{total:.6f}",
                      "residual_variance": f"mean of the {x.shape[1] - K} discarded eigenvalues"})
    os.makedirs(os.path.dirname(dstats), exist_ok=True)
    save_file({"images": imgs.reshape(N, -1)}, dstats,
              {"dataset": f"{N} Noto emoji 32x32 on white", "range": "uint8 0..255 -> [-1,1]", "layout": "NCHW"})
    image = {"channels": 3, "height": 32, "width": 32, "range": [-1, 1]}
    with open(os.path.join(MODELS, "emoji32-delta", "manifest.json"), "w") as f:
        json.dump({"id": "emoji32-delta", "name": "Emoji 32×32 · Delta mixture (training set)",
                   "description": f"Exact denoiser of the empirical distribution of all {N} emoji training "
                                  f"images (uint8, NCHW). Its samples retrieve training images.",
                   "kind": "delta", "image": image, "space": "pixel", "stats": "stats.safetensors",
                   "sigmaMin": 0.002, "sigmaMax": 80, "card": CARD}, f, indent=2, ensure_ascii=False)
        f.write("\n")
    for p in (npz, stats, dstats):
        print(f"{p}: {os.path.getsize(p) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
