import sys, time, torch
sys.path.insert(0, '.')
from unet import UNet, count_params
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
cfgs = eval(sys.argv[2])
for chs, attn, blocks, size, inch in cfgs:
    m = UNet(inch, chs, 10, attn, blocks); opt = torch.optim.Adam(m.parameters(), 2e-4)
    x = torch.randn(128, inch, size, size); t = torch.randint(0, 1000, (128,)); y = torch.randint(0, 11, (128,))
    ts = []
    for i in range(4):
        t0 = time.time(); loss = (m(x, t, y) - x).pow(2).mean(); opt.zero_grad(); loss.backward(); opt.step(); ts.append(time.time() - t0)
    print(chs, attn, blocks, size, f"{count_params(m)/1e6:.3f}M", f"{min(ts[1:]):.3f}s/it", flush=True)
