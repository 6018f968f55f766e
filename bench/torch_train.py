"""PyTorch CPU reference for bench/train.ts: the same GPT-2 step, timed the same way.

Pre-LN decoder, learned positions, tied LM head, MLP 4d with tanh-GELU, causal additive mask,
softmax cross-entropy, AdamW(0.9, 0.95, weight decay 0.01 on 2-D weights), float32, dropout 0,
synthetic random-token batches. LoRA: r=8, alpha=16 on the q and v slices of c_attn, base frozen.
tokens/s = B*T / median step time; a step is forward, backward, optimiser and `loss.item()`.

Usage: /usr/bin/python3 bench/torch_train.py [--threads N] [--configs a,b] [--variants full,lora]
Prints one JSON object per line: {"config","variant","threads","msPerStep","tokensPerSec","blas"}.
Debian's python3-torch takes its BLAS from the system alternative: the reference libblas3
unless an optimised one (libopenblas0-pthread) is installed, a 5x difference here; "blas"
names the library actually loaded so results can be compared.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    # name: (d, layers, heads, T, B, vocab, warmup steps, measured steps)
    "a": (128, 2, 4, 64, 16, 256, 5, 20),
    "b": (256, 4, 4, 128, 8, 512, 3, 8),
}


class LoraSlice(nn.Module):
    """Low-rank update added to one slice (q or v) of the fused c_attn output."""

    def __init__(self, d_in, d_out, r, alpha):
        super().__init__()
        self.a = nn.Parameter(torch.empty(d_in, r))
        nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))
        self.b = nn.Parameter(torch.zeros(r, d_out))
        self.scale = alpha / r

    def forward(self, x):
        return (x @ self.a) @ self.b * self.scale


class Block(nn.Module):
    def __init__(self, d, h, lora):
        super().__init__()
        self.h = h
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.c_attn = nn.Linear(d, 3 * d)
        self.attn_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)
        self.lora_q = LoraSlice(d, d, *lora) if lora else None
        self.lora_v = LoraSlice(d, d, *lora) if lora else None

    def forward(self, x, mask):
        b, t, d = x.shape
        y = self.ln_1(x)
        q, k, v = self.c_attn(y).split(d, dim=2)
        if self.lora_q is not None:
            q = q + self.lora_q(y)
            v = v + self.lora_v(y)
        hd = d // self.h
        q = q.view(b, t, self.h, hd).transpose(1, 2)
        k = k.view(b, t, self.h, hd).transpose(1, 2)
        v = v.view(b, t, self.h, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd)) + mask
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.attn_proj(y)
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x


class Gpt(nn.Module):
    def __init__(self, d, n_layer, h, t, vocab, lora):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(t, d)
        self.blocks = nn.ModuleList([Block(d, h, lora) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)
        mask = torch.full((t, t), -1e9).triu(1)
        self.register_buffer("mask", mask)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.wte(ids) + self.wpe.weight[:t]
        for block in self.blocks:
            x = block(x, self.mask[:t, :t])
        return self.ln_f(x) @ self.wte.weight.t()


def loaded_blas():
    """The BLAS shared library mapped into this process (after torch has run a matmul)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.split()[-1].lower()}
    except OSError:
        return "unknown"
    named = sorted(p for p in paths if "openblas" in p.rsplit("/", 1)[-1]) or sorted(paths)
    return named[0] if named else "none found"


def bench(config, variant, threads):
    d, n_layer, h, t, b, vocab, warm, steps = CONFIGS[config]
    torch.manual_seed(0)
    lora = (8, 16) if variant == "lora" else None
    model = Gpt(d, n_layer, h, t, vocab, lora)
    if lora:
        for name, p in model.named_parameters():
            p.requires_grad = ".lora_" in name
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() == 2]
    no_decay = [p for p in params if p.dim() != 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-3, betas=(0.9, 0.95),
    )
    ids = torch.randint(0, vocab, (b, t + 1))
    x, y = ids[:, :-1], ids[:, 1:]
    times = []
    for i in range(warm + steps):
        start = time.perf_counter()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss.item()
        if i >= warm:
            times.append(time.perf_counter() - start)
    times.sort()
    ms = times[len(times) // 2] * 1000
    return {"config": config, "variant": variant, "threads": threads,
            "msPerStep": round(ms, 2), "tokensPerSec": round(b * t / (ms / 1000), 1), "blas": loaded_blas()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--configs", default="a,b")
    parser.add_argument("--variants", default="full,lora")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for config in args.configs.split(","):
        for variant in args.variants.split(","):
            print(json.dumps(bench(config, variant, args.threads)), flush=True)


if __name__ == "__main__":
    main()
