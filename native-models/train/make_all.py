"""Run the whole bundled-model pipeline in order, resuming wherever it stopped.

  /usr/bin/python3 native-models/train/make_all.py [--threads N] [--device cpu|cuda|auto]
                                                   [--fashion-steps 6800] [--emoji-steps 14000]
The defaults are the recipe of the bundled networks (2.5 M-parameter UNets, channels 32,64,128),
except that Fashion-MNIST trains without horizontal flips (--no-flip): its shoes all face one way,
and the bundled network, trained with flips, draws mirrored ones (see its MODEL_CARD.md).
They were trained on a GPU (see README.md there); on 2 CPU cores the same recipe takes many hours.

1. make_stats.py        Fashion-MNIST Gaussian / GMM / delta statistics
2. train_judge.py       Fashion-MNIST judge classifier (+ feature statistics, ONNX)
3. train_unet.py        Fashion-MNIST class-conditional UNet (resumes from checkpoints/fashion)
4. export_unet.py       -> native-models/fashion-mnist/ (+ eval_unet.py: judge scores of DDIM samples)
   train_gan.py         Fashion-MNIST class-conditional DCGAN (resumes from checkpoints/gan) -> native-models/fashion-mnist-gan/
5. make_emoji_data.py   npm pack emoji-datasource-google -> data-cache, emoji32 stats + delta set
6. train_unet.py        emoji 32x32 unconditional UNet (resumes from checkpoints/emoji32)
7. export_unet.py       -> native-models/emoji32/
8. verify_onnx.mjs      torch vs onnxruntime-node check of both exports (skipped without node)
Every step is skipped or resumed when its outputs / checkpoints already exist.
Needs a Python with torch >= 1.13, onnx, numpy and Pillow (Debian: /usr/bin/python3).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
ROOT = os.path.dirname(MODELS)
PY = sys.executable


def step(title, cmd, skip_if=None):
    if skip_if and all(os.path.exists(p) for p in skip_if):
        print(f"== {title}: up to date, skipped", flush=True)
        return
    print(f"== {title}: {' '.join(cmd)}", flush=True)
    t0 = time.time()
    subprocess.run(cmd, check=True, cwd=ROOT)
    print(f"== {title}: done in {time.time() - t0:.0f}s", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto (passed to train_unet.py)")
    ap.add_argument("--fashion-steps", type=int, default=6800)
    ap.add_argument("--emoji-steps", type=int, default=14000)
    ap.add_argument("--judge-epochs", type=int, default=8)
    ap.add_argument("--gan-steps", type=int, default=2400, help="steps of the Fashion-MNIST GAN (train_gan.py)")
    ap.add_argument("--skip-emoji", action="store_true")
    args = ap.parse_args()
    th = ["--threads", str(args.threads)]
    t = lambda f: os.path.join(HERE, f)  # noqa: E731
    step("statistics", [PY, t("make_stats.py")])
    step("judge", [PY, t("train_judge.py"), "--epochs", str(args.judge_epochs)] + th,
         skip_if=[os.path.join(MODELS, "fashion-mnist-judge", f) for f in ("model.onnx", "judge.json", "feature_stats.safetensors")])
    recipe = ["--chs", "32,64,128", "--ema", "0.9995", "--device", args.device, "--log-every", "200"]
    step("fashion unet", [PY, t("train_unet.py"), "--data", "fashion", "--max-steps", str(args.fashion_steps),
                          "--batch", "256", "--lr", "3e-4", "--no-flip"] + recipe + th)
    step("fashion export", [PY, t("export_unet.py"), "--data", "fashion", "--samples", "6"] + th)
    step("fashion eval", [PY, t("eval_unet.py"), "--per-class", "50"] + th)
    step("fashion eval (unconditional)", [PY, t("eval_unet.py"), "--per-class", "50", "--unconditional"] + th)
    step("fashion gan", [PY, t("train_gan.py"), "--max-steps", str(args.gan_steps)] + th)
    step("fashion gan export", [PY, t("train_gan.py"), "--export-only"] + th)
    if not args.skip_emoji:
        step("emoji data", [PY, t("make_emoji_data.py")])
        step("emoji unet", [PY, t("train_unet.py"), "--data", "emoji", "--max-steps", str(args.emoji_steps),
                            "--batch", "128", "--lr", "2e-4"] + recipe + th)
        step("emoji export", [PY, t("export_unet.py"), "--data", "emoji"] + th)
    node = shutil.which("node")
    if node and os.path.isdir(os.path.join(ROOT, "node_modules", "onnxruntime-node")):
        for name in ["fashion"] + ([] if args.skip_emoji else ["emoji32"]):
            ref = os.path.join(HERE, "checkpoints", name, "onnx_reference.json")
            if os.path.exists(ref):
                step(f"verify {name} onnx", [node, t("verify_onnx.mjs"), ref])
    else:
        print("== verify: node or onnxruntime-node missing, skipped", flush=True)


if __name__ == "__main__":
    main()
