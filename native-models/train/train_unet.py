"""Train the small diffusion UNet (epsilon prediction, VP linear beta schedule).

Fashion-MNIST (class-conditional, 28x28x1, 20% label dropout to the null label 10)
or the emoji set (unconditional, 32x32x3, from make_emoji_data.py).
Seeded; logs step/loss/it/s/ETA; checkpoints every --ckpt-every seconds into
--ckpt-dir and resumes from the latest checkpoint there automatically.

  /usr/bin/python3 native-models/train/train_unet.py --threads 1 --max-steps 8000
  /usr/bin/python3 native-models/train/train_unet.py --data emoji --threads 1 --max-steps 6000
While it runs, `echo N > <ckpt-dir>/MAX_STEPS` changes the step target (checked every --log-every steps).

On a GPU (the device machine; see README.md "Training on a GPU"), train for a fixed wall-clock budget:
  python3 train_unet.py --data emoji --chs 32,64,128 --device cuda --batch 256 --max-minutes 8 \
      --max-steps 1000000 --ckpt-dir /tmp/ck --export-ema $OUT/emoji.pt
--max-minutes stops at the deadline; the learning rate decays linearly to 10% over the last
--decay-frac of the run (of the time budget, or of --max-steps, whichever ends first); --export-ema writes a compact checkpoint (EMA weights, cfg, losses:
all that export_unet.py needs) at every checkpoint and at the end.
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
    "fashion": dict(chs="32,64,128", attn=1, num_classes=10, ckpt_dir=os.path.join(HERE, "checkpoints", "fashion")),
    "emoji": dict(chs="32,64,128", attn=1, num_classes=0, ckpt_dir=os.path.join(HERE, "checkpoints", "emoji32")),
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


def load_matching(path, cfg, dev):
    """Load a checkpoint (full or compact EMA) whose network has cfg's architecture."""
    s = torch.load(path, map_location=dev, weights_only=False)
    c = s["cfg"]
    if c["chs"] != cfg["chs"] or c["in_ch"] != cfg["in_ch"] or c.get("param", "epsilon") != cfg["param"]:
        raise SystemExit(f"checkpoint {path} has a different architecture (channels {c['chs']}, "
                         f"{c['in_ch']} input channels, {c.get('param', 'epsilon')}-trained)")
    return s


def save_ema(path, step, ema, cfg, losses):
    """Compact checkpoint for export_unet.py: EMA weights only (no optimizer, no raw weights)."""
    sd = {k: v.detach().cpu() for k, v in ema.state_dict().items()}
    torch.save({"step": step, "ema": sd, "cfg": cfg, "losses": losses}, path + ".tmp")
    os.replace(path + ".tmp", path)


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
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--max-minutes", type=float, default=None, help="stop after this much training time")
    ap.add_argument("--decay-frac", type=float, default=0.3,
                    help="fraction of the run (steps, or time with --max-minutes) over which the lr decays to 10%%; 0 = off")
    ap.add_argument("--export-ema", default=None, help="also write a compact EMA checkpoint here")
    ap.add_argument("--init", default=None,
                    help="warm start from a compact EMA checkpoint (--export-ema) when --ckpt-dir has none: "
                         "weights from its EMA, a fresh optimizer with --warmup steps, step count continued")
    args = ap.parse_args()
    dev = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                       ("cpu" if args.device == "auto" else args.device))
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
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
           "prediction": "epsilon", "param": args.param,
           "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"cpu ({args.threads} thread(s))",
           "torch": str(torch.__version__)}
    model = build_model(cfg).to(dev)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step, losses = 0, []
    ck = latest_checkpoint(ckpt_dir)
    if ck:
        s = load_matching(ck, cfg, dev)
        model.load_state_dict(s["model"]); ema.load_state_dict(s["ema"]); opt.load_state_dict(s["opt"])
        torch.set_rng_state(s["rng"].cpu()); step = s["step"]; losses = s.get("losses", [])
        cfg["device"] = s["cfg"].get("device", cfg["device"]) if s["cfg"].get("device") == cfg["device"] else \
            f"{s['cfg'].get('device', 'cpu (1 thread)')} then {cfg['device']}"
        print(f"resumed from {ck} at step {step}", flush=True)
    warm_from = 0
    if not ck and args.init:
        s = load_matching(args.init, cfg, dev)
        model.load_state_dict(s["ema"]); ema.load_state_dict(s["ema"])
        step = warm_from = s["step"]; losses = list(s.get("losses", []))
        if s["cfg"].get("device") != cfg["device"]:
            cfg["device"] = f"{s['cfg'].get('device')} then {cfg['device']}"
        cfg["restarts"] = s["cfg"].get("restarts", []) + [step]
        print(f"warm start from {args.init} (EMA weights, fresh optimizer) at step {step}", flush=True)
    print(f"data {args.data}: {N} images {C}x{H}x{W}; model {count_params(model)} params; cfg {cfg}", flush=True)
    if step >= args.max_steps:
        print("already at max steps", flush=True)
        return

    x_all = x_all.to(dev)
    y_all = y_all.to(dev) if y_all is not None else None
    abar = alphas_cumprod().float().to(dev)
    sa, sb = abar.sqrt(), (1 - abar).sqrt()
    gen = torch.Generator(device=dev).manual_seed(args.seed + step) if dev.type == "cuda" else None
    budget = args.max_minutes * 60 if args.max_minutes else None
    t_start, t_last_ck, run_loss, n_run = time.time(), time.time(), 0.0, 0
    step0 = step
    model.train()
    while step < args.max_steps:
        el = time.time() - t_start
        if budget is not None and el >= budget:
            print(f"time budget of {args.max_minutes} min reached at step {step}", flush=True)
            break
        # lr decays linearly to 10% over the last --decay-frac of the run, measured in time
        # (--max-minutes) or in steps (--max-steps), whichever is nearer its end
        progress = step / args.max_steps
        if budget is not None:
            progress = max(progress, el / budget)
        decay = max(0.1, min(1.0, (1 - progress) / args.decay_frac)) if args.decay_frac > 0 else 1.0
        rnd = dict(device=dev, generator=gen) if gen is not None else {}
        idx = torch.randint(0, N, (args.batch,), **rnd)
        x0 = x_all[idx]
        if cfg["flip"]:
            flip = torch.rand(args.batch, **rnd) < 0.5
            x0 = torch.where(flip[:, None, None, None], x0.flip(3), x0)
        t = torch.randint(0, T, (args.batch,), **rnd)
        eps = torch.randn(x0.shape, **rnd) if gen is not None else torch.randn_like(x0)
        xt = sa[t][:, None, None, None] * x0 + sb[t][:, None, None, None] * eps
        y = None
        if cfg["num_classes"] > 0:
            y = y_all[idx].clone()
            y[torch.rand(args.batch, **rnd) < args.p_uncond] = cfg["num_classes"]
        for g in opt.param_groups:
            g["lr"] = args.lr * min(1.0, (step - warm_from + 1) / args.warmup) * decay
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
            pe, pm = list(ema.parameters()), [p.detach() for p in model.parameters()]
            torch._foreach_mul_(pe, d)
            torch._foreach_add_(pe, pm, alpha=1 - d)
            for be, bm in zip(ema.buffers(), model.buffers()):
                be.copy_(bm)
        step += 1
        run_loss += loss.detach(); n_run += 1  # a tensor: no device sync per step
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
            run_loss = float(run_loss)
            losses.append([step, run_loss / n_run])
            print(f"step {step}/{args.max_steps} loss {run_loss / n_run:.5f} {ips:.3f} it/s "
                  f"{1 / ips:.3f} s/it elapsed {el / 60:.1f} min ETA {eta / 60:.1f} min "
                  f"(finish ~{time.strftime('%H:%M', time.localtime(time.time() + eta))})", flush=True)
            run_loss, n_run = 0.0, 0
        if time.time() - t_last_ck > args.ckpt_every or step == args.max_steps:
            p = save_checkpoint(ckpt_dir, step, model, ema, opt, cfg, losses)
            if args.export_ema:
                save_ema(args.export_ema, step, ema, cfg, losses)
            print(f"checkpoint {p}", flush=True)
            t_last_ck = time.time()
    p = save_checkpoint(ckpt_dir, step, model, ema, opt, cfg, losses)
    if args.export_ema:
        save_ema(args.export_ema, step, ema, cfg, losses)
    print(f"done: {step} steps; checkpoint {p}", flush=True)


if __name__ == "__main__":
    main()
