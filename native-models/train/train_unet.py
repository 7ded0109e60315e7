"""Train the small diffusion UNet (epsilon prediction, VP linear beta schedule).

Fashion-MNIST (class-conditional, 28x28x1, 20% label dropout to the null label 10)
or the emoji set (unconditional, 32x32x3, from make_emoji_data.py).
Seeded; logs step/loss/it/s/ETA; checkpoints every --ckpt-every seconds into
--ckpt-dir and resumes from the latest checkpoint there automatically.

  /usr/bin/python3 native-models/train/train_unet.py --threads 1 --max-steps 8000
  /usr/bin/python3 native-models/train/train_unet.py --data emoji --threads 1 --max-steps 6000
While it runs, `echo N > <ckpt-dir>/MAX_STEPS` changes the step target (checked every --log-every steps).
"""
import argparse
import copy
import glob
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from unet import UNet, count_params  # noqa: E402

T = 1000
BETA_START, BETA_END = 1e-4, 0.02

PRESETS = {
    "fashion": dict(chs="16,32,64", attn=1, num_classes=10, ckpt_dir=os.path.join(HERE, "checkpoints", "fashion")),
    "emoji": dict(chs="16,32,64", attn=1, num_classes=0, ckpt_dir=os.path.join(HERE, "checkpoints", "emoji32")),
}


def alphas_cumprod():
    betas = torch.linspace(BETA_START, BETA_END, T, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, 0)


def load_data(name):
    """Return float32 tensor [N,C,H,W] in [-1,1] and int64 labels [N] (or None)."""
    if name == "fashion":
        import fmnist
        x, y = fmnist.load("train")
        x = torch.from_numpy(x.astype(np.float32) / 127.5 - 1.0)[:, None]
        return x, torch.from_numpy(y)
    if name == "emoji":
        path = os.path.join(HERE, "data-cache", "emoji32.npz")
        if not os.path.exists(path):
            raise SystemExit(f"{path} missing: run make_emoji_data.py first")
        d = np.load(path)
        x = torch.from_numpy(d["images"].astype(np.float32) / 127.5 - 1.0)  # [N,3,32,32]
        return x, None
    raise SystemExit(f"unknown data {name}")


def latest_checkpoint(d):
    files = sorted(glob.glob(os.path.join(d, "ckpt-*.pt")))
    return files[-1] if files else None


def build_model(cfg):
    return UNet(in_ch=cfg["in_ch"], chs=tuple(cfg["chs"]), num_classes=cfg["num_classes"],
                attn=bool(cfg["attn"]), blocks=1, up_conv=True)


def save_checkpoint(d, step, model, ema, opt, cfg, losses, keep=3):
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"ckpt-{step:07d}.pt")
    torch.save({"step": step, "model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                "cfg": cfg, "rng": torch.get_rng_state(), "losses": losses}, path + ".tmp")
    os.replace(path + ".tmp", path)
    for old in sorted(glob.glob(os.path.join(d, "ckpt-*.pt")))[:-keep]:
        os.remove(old)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="fashion", choices=list(PRESETS))
    ap.add_argument("--max-steps", type=int, default=8000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--p-uncond", type=float, default=0.2)
    ap.add_argument("--chs", default=None, help="channels per level, e.g. 16,32,64")
    ap.add_argument("--attn", type=int, default=None)
    ap.add_argument("--no-flip", action="store_true")
    ap.add_argument("--param", default="v", choices=["v", "epsilon"],
                    help="what the inner network is trained to predict; the exported graph always outputs epsilon "
                         "(v is converted inside the graph: eps = sqrt(abar) v + sqrt(1-abar) x_t)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ckpt-dir", default=None)
    ap.add_argument("--ckpt-every", type=float, default=300.0, help="seconds")
    ap.add_argument("--log-every", type=int, default=50)
    args = ap.parse_args()
    preset = PRESETS[args.data]
    ckpt_dir = args.ckpt_dir or preset["ckpt_dir"]
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    x_all, y_all = load_data(args.data)
    N, C, H, W = x_all.shape
    cfg = {"data": args.data, "in_ch": C, "height": H, "width": W,
           "chs": [int(c) for c in (args.chs or preset["chs"]).split(",")],
           "attn": int(preset["attn"] if args.attn is None else args.attn),
           "num_classes": preset["num_classes"] if y_all is not None else 0,
           "batch": args.batch, "lr": args.lr, "warmup": args.warmup, "ema": args.ema,
           "p_uncond": args.p_uncond, "flip": not args.no_flip, "seed": args.seed,
           "schedule": {"type": "vp-linear", "timesteps": T, "betaStart": BETA_START, "betaEnd": BETA_END},
           "prediction": "epsilon", "param": args.param}
    model = build_model(cfg)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step, losses = 0, []
    ck = latest_checkpoint(ckpt_dir)
    if ck:
        s = torch.load(ck)
        if s["cfg"]["chs"] != cfg["chs"] or s["cfg"]["in_ch"] != cfg["in_ch"] or s["cfg"].get("param", "epsilon") != cfg["param"]:
            raise SystemExit(f"checkpoint {ck} has a different architecture")
        model.load_state_dict(s["model"]); ema.load_state_dict(s["ema"]); opt.load_state_dict(s["opt"])
        torch.set_rng_state(s["rng"]); step = s["step"]; losses = s.get("losses", [])
        print(f"resumed from {ck} at step {step}", flush=True)
    print(f"data {args.data}: {N} images {C}x{H}x{W}; model {count_params(model)} params; cfg {cfg}", flush=True)
    if step >= args.max_steps:
        print("already at max steps", flush=True)
        return

    abar = alphas_cumprod().float()
    sa, sb = abar.sqrt(), (1 - abar).sqrt()
    t_start, t_last_ck, run_loss, n_run = time.time(), time.time(), 0.0, 0
    step0 = step
    model.train()
    while step < args.max_steps:
        idx = torch.randint(0, N, (args.batch,))
        x0 = x_all[idx]
        if cfg["flip"]:
            flip = torch.rand(args.batch) < 0.5
            x0 = torch.where(flip[:, None, None, None], x0.flip(3), x0)
        t = torch.randint(0, T, (args.batch,))
        eps = torch.randn_like(x0)
        xt = sa[t][:, None, None, None] * x0 + sb[t][:, None, None, None] * eps
        y = None
        if cfg["num_classes"] > 0:
            y = y_all[idx].clone()
            y[torch.rand(args.batch) < args.p_uncond] = cfg["num_classes"]
        for g in opt.param_groups:
            g["lr"] = args.lr * min(1.0, (step + 1) / args.warmup)
        if cfg["param"] == "v":
            target = sa[t][:, None, None, None] * eps - sb[t][:, None, None, None] * x0
        else:
            target = eps
        loss = (model(xt, t, y) - target).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            d = min(args.ema, (1 + step) / (10 + step))
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
            for be, bm in zip(ema.buffers(), model.buffers()):
                be.copy_(bm)
        step += 1
        run_loss += loss.item(); n_run += 1
        if step % args.log_every == 0:
            # the step target can be changed while training runs: echo N > <ckpt-dir>/MAX_STEPS
            ov = os.path.join(ckpt_dir, "MAX_STEPS")
            if os.path.exists(ov):
                try:
                    new = max(int(open(ov).read().strip()), step)
                except ValueError:
                    new = args.max_steps
                if new != args.max_steps:
                    print(f"max steps {args.max_steps} -> {new} (from {ov})", flush=True)
                    args.max_steps = new
        if step % args.log_every == 0 or step == args.max_steps:
            el = time.time() - t_start
            ips = (step - step0) / el
            eta = (args.max_steps - step) / ips
            losses.append([step, run_loss / n_run])
            print(f"step {step}/{args.max_steps} loss {run_loss / n_run:.5f} {ips:.3f} it/s "
                  f"{1 / ips:.3f} s/it elapsed {el / 60:.1f} min ETA {eta / 60:.1f} min "
                  f"(finish ~{time.strftime('%H:%M', time.localtime(time.time() + eta))})", flush=True)
            run_loss, n_run = 0.0, 0
        if time.time() - t_last_ck > args.ckpt_every or step == args.max_steps:
            p = save_checkpoint(ckpt_dir, step, model, ema, opt, cfg, losses)
            print(f"checkpoint {p}", flush=True)
            t_last_ck = time.time()
    print(f"done: {step} steps", flush=True)


if __name__ == "__main__":
    main()
