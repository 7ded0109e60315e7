"""Small UNet for 28x28 / 32x32 diffusion (epsilon prediction, VP schedule).

Two downsamplings (28->14->7 or 32->16->8), residual blocks with GroupNorm + SiLU,
sinusoidal timestep embedding, optional class embedding (num_classes + 1 entries,
the last one = null label), optional self-attention at the lowest resolution.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def gn(ch):
    return nn.GroupNorm(min(8, ch // 4), ch)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.n1 = gn(cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(temb, cout)
        self.n2 = gn(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.c1(F.silu(self.n1(x)))
        h = h + self.t(emb)[:, :, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return h + self.skip(x)


class Attention(nn.Module):
    def __init__(self, ch, heads=4):
        super().__init__()
        self.heads = heads
        self.norm = gn(ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).unbind(1)
        a = torch.softmax(torch.einsum("bhdi,bhdj->bhij", q, k) * (c // self.heads) ** -0.5, dim=-1)
        o = torch.einsum("bhij,bhdj->bhdi", a, v).reshape(b, c, h, w)
        return x + self.proj(o)


class UNet(nn.Module):
    def __init__(self, in_ch=1, chs=(16, 32, 64), num_classes=10, attn=True, blocks=1, up_conv=False):
        super().__init__()
        self.chs = list(chs)
        self.num_classes = num_classes
        c0 = chs[0]
        temb = 4 * c0
        self.temb_dim = c0
        self.tmlp = nn.Sequential(nn.Linear(c0, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.cemb = nn.Embedding(num_classes + 1, temb) if num_classes > 0 else None
        self.cin = nn.Conv2d(in_ch, c0, 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skips = [c0]
        cur = c0
        for i, c in enumerate(chs):
            for _ in range(blocks):
                self.down.append(ResBlock(cur, c, temb)); cur = c; skips.append(cur)
            if i < len(chs) - 1:
                self.downsample.append(nn.Conv2d(cur, cur, 3, stride=2, padding=1)); skips.append(cur)
        self.mid1 = ResBlock(cur, cur, temb)
        self.attn = Attention(cur) if attn else None
        self.mid2 = ResBlock(cur, cur, temb)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i, c in reversed(list(enumerate(chs))):
            for _ in range(blocks + 1):
                self.up.append(ResBlock(cur + skips.pop(), c, temb)); cur = c
            if i > 0:
                # nearest upsampling; with up_conv a 3x3 conv at the low resolution first
                self.upsample.append(nn.Conv2d(cur, cur, 3, padding=1) if up_conv else nn.Identity())
        self.nout = gn(cur)
        self.cout = nn.Conv2d(cur, in_ch, 3, padding=1)
        self.blocks = blocks

    def forward(self, x, t, y=None):
        emb = self.tmlp(timestep_embedding(t, self.temb_dim))
        if self.cemb is not None:
            if y is None:
                y = torch.full((x.shape[0],), self.num_classes, dtype=torch.long, device=x.device)
            emb = emb + self.cemb(y)
        h = self.cin(x)
        hs = [h]
        bi = 0
        for i in range(len(self.chs)):
            for _ in range(self.blocks):
                h = self.down[bi](h, emb); bi += 1; hs.append(h)
            if i < len(self.chs) - 1:
                h = self.downsample[i](h); hs.append(h)
        h = self.mid1(h, emb)
        if self.attn is not None:
            h = self.attn(h)
        h = self.mid2(h, emb)
        bi = 0
        for j, i in enumerate(reversed(range(len(self.chs)))):
            for _ in range(self.blocks + 1):
                h = self.up[bi](torch.cat([h, hs.pop()], dim=1), emb); bi += 1
            if i > 0:
                h = F.interpolate(self.upsample[j](h), scale_factor=2.0, mode="nearest")
        return self.cout(F.silu(self.nout(h)))


def count_params(m):
    return sum(p.numel() for p in m.parameters())
