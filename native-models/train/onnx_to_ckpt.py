"""Recover a compact EMA checkpoint (train_unet.py --export-ema format) from an exported UNet ONNX graph.

The bundled networks were trained on a lent GPU and only their ONNX exports were kept. The
export stores every Conv/Linear/Embedding weight under its PyTorch name ("net.<param>"); the
GroupNorm affine parameters are folded into Mul/Add constants after each InstanceNormalization,
whose node names carry the module path (/net/down.0/n1/Mul). This maps both back to the
UNet state_dict, checks that every parameter was found, and checks the rebuilt network against
the graph (onnxruntime-node, via verify_onnx.mjs) so a warm start continues the bundled weights.

  /usr/bin/python3 native-models/train/onnx_to_ckpt.py native-models/fashion-mnist/model.onnx out.pt \
      --step 6800 --chs 32,64,128 --param v
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train_unet import build_model, T, BETA_START, BETA_END  # noqa: E402


def recover_state(path, model):
    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    sd = model.state_dict()
    out = {}
    for k in sd:
        if "net." + k in inits:
            out[k] = torch.from_numpy(inits["net." + k].copy())
    # GroupNorm affine: /net/<module path with dots>/Mul and /Add after InstanceNormalization
    for n in m.graph.node:
        if n.op_type not in ("Mul", "Add") or not n.name.startswith("/net/"):
            continue
        parts = n.name.split("/")  # ['', 'net', 'down.0', 'n1', 'Mul']
        if len(parts) < 4 or parts[-1] not in ("Mul", "Add"):
            continue
        mod = ".".join(parts[2:-1])
        key = mod + (".weight" if n.op_type == "Mul" else ".bias")
        if key in sd and key not in out:
            const = [i for i in n.input if i in inits]
            if const:
                out[key] = torch.from_numpy(inits[const[0]].reshape(-1).copy())
    missing = [k for k in sd if k not in out]
    if missing:
        raise SystemExit(f"{path}: parameters not found in the graph: {missing[:8]}{' …' if len(missing) > 8 else ''}")
    for k, v in out.items():
        if tuple(v.shape) != tuple(sd[k].shape):
            raise SystemExit(f"{path}: {k} has shape {tuple(v.shape)}, the network expects {tuple(sd[k].shape)}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx")
    ap.add_argument("out")
    ap.add_argument("--step", type=int, required=True, help="training steps the export had (from its card)")
    ap.add_argument("--chs", default="32,64,128")
    ap.add_argument("--param", default="v")
    ap.add_argument("--device", default="NVIDIA H200", help="where the export was trained (for the card)")
    ap.add_argument("--torch", default="2.11.0+cu130")
    ap.add_argument("--flip", type=int, default=1)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--ema", type=float, default=0.9995)
    args = ap.parse_args()
    cfg = {"data": "fashion", "in_ch": 1, "height": 28, "width": 28, "chs": [int(c) for c in args.chs.split(",")],
           "attn": 1, "num_classes": 10, "batch": args.batch, "lr": args.lr, "warmup": 500, "ema": args.ema,
           "p_uncond": 0.2, "flip": bool(args.flip), "seed": 0,
           "schedule": {"type": "vp-linear", "timesteps": T, "betaStart": BETA_START, "betaEnd": BETA_END},
           "prediction": "epsilon", "param": args.param, "device": args.device, "torch": args.torch}
    model = build_model(cfg)
    model.load_state_dict(recover_state(args.onnx, model))
    torch.save({"step": args.step, "ema": model.state_dict(), "cfg": cfg, "losses": []}, args.out)
    # reference batch: the rebuilt network through export_unet's wrapper, compared with the graph by verify_onnx.mjs
    from export_unet import EpsNet
    net = EpsNet(model, True, args.param).eval()
    g = torch.Generator().manual_seed(1)
    rx = torch.randn(5, 1, 28, 28, generator=g)
    rt = torch.tensor([0, 50, 300, 700, 999])
    ry = torch.tensor([0, 3, 7, 9, 10])
    with torch.no_grad():
        e = net(rx, rt, ry)
    ref = {"model": os.path.abspath(args.onnx),
           "inputs": {"x": {"shape": list(rx.shape), "data": rx.flatten().tolist()},
                      "t": {"shape": [5], "data": rt.tolist()}, "y": {"shape": [5], "data": ry.tolist()}},
           "output": {"name": "eps", "shape": list(e.shape), "data": e.flatten().tolist()}}
    with open(args.out + ".reference.json", "w") as f:
        json.dump(ref, f)
    print(f"wrote {args.out} ({sum(v.numel() for v in model.state_dict().values())} values); "
          f"check: node native-models/train/verify_onnx.mjs {args.out}.reference.json", flush=True)


if __name__ == "__main__":
    main()
