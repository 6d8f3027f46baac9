"""Train ModelGate's demo language model and export it to ONNX.

A small character-level transformer (about 1.3 M parameters) trained on CPU on
the fortune cookies that Debian's `fortunes` package ships. It is a demo: it
writes fortune-flavoured gibberish. What it exercises is real: tokenization,
ONNX inference in onnxruntime-node, sampling, streaming, the SageMaker
container contract.

    apt-get install python3-torch fortunes
    /usr/bin/python3 models/llm/demo-lm/train.py [--steps 800]

Writes models/llm/demo-lm/model.onnx (input_ids int64 [1, T] -> logits float32
[1, vocab] for the last position), tokenizer.json and manifest.json.
"""

import argparse
import glob
import json
import math
import os
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
FORTUNES = "/usr/share/games/fortunes"
CORPORA = ["fortunes", "wisdom", "literature", "science", "computers", "people", "humorists", "education", "work"]
CONTEXT = 128
D_MODEL = 160
LAYERS = 4
HEADS = 4


def load_corpus():
    texts = []
    for name in CORPORA:
        path = os.path.join(FORTUNES, name)
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                texts.extend(t.strip() for t in f.read().split("\n%\n") if t.strip())
    text = "\n\n".join(texts) + "\n"
    # Printable ASCII and newline only: everything else becomes '?'.
    return "".join(c if c == "\n" or 32 <= ord(c) < 127 else "?" for c in text), len(texts)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D_MODEL)
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.proj = nn.Linear(D_MODEL, D_MODEL)
        self.ln2 = nn.LayerNorm(D_MODEL)
        self.mlp = nn.Sequential(nn.Linear(D_MODEL, 4 * D_MODEL), nn.GELU(), nn.Linear(4 * D_MODEL, D_MODEL))

    def forward(self, x, mask):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q = q.view(b, t, HEADS, c // HEADS).transpose(1, 2)
        k = k.view(b, t, HEADS, c // HEADS).transpose(1, 2)
        v = v.view(b, t, HEADS, c // HEADS).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(c // HEADS)
        att = att.masked_fill(mask[:t, :t] == 0, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x))


class CharTransformer(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.tok = nn.Embedding(vocab, D_MODEL)
        self.pos = nn.Embedding(CONTEXT, D_MODEL)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, vocab, bias=False)
        self.register_buffer("mask", torch.tril(torch.ones(CONTEXT, CONTEXT)))

    def forward(self, ids, last_only=False):
        t = ids.shape[1]
        x = self.tok(ids) + self.pos(torch.arange(t, device=ids.device))
        for block in self.blocks:
            x = block(x, self.mask)
        x = self.ln(x)
        if last_only:
            x = x[:, -1, :]
        return self.head(x)


class LastLogits(nn.Module):
    """What is exported: logits of the last position only."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids, last_only=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    torch.manual_seed(0)
    random.seed(0)
    torch.set_num_threads(os.cpu_count() or 1)

    text, count = load_corpus()
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    split = int(len(data) * 0.95)
    train, held_out = data[:split], data[split:]
    print(f"{count} fortunes, {len(text)} characters, vocabulary {len(vocab)}")

    model = CharTransformer(len(vocab))
    params = sum(p.numel() for p in model.parameters())
    print(f"{params} parameters")
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)

    def batch(source):
        starts = torch.randint(0, len(source) - CONTEXT - 1, (args.batch,))
        x = torch.stack([source[s : s + CONTEXT] for s in starts])
        y = torch.stack([source[s + 1 : s + CONTEXT + 1] for s in starts])
        return x, y

    started = time.time()
    for step in range(args.steps):
        lr = 3e-3 * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = batch(train)
        loss = F.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.3f} lr {lr:.5f} {time.time() - started:.0f}s", flush=True)

    model.eval()
    with torch.no_grad():
        losses = [F.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1)).item() for x, y in (batch(held_out) for _ in range(20))]
    held_out_loss = sum(losses) / len(losses)
    print(f"held-out loss {held_out_loss:.3f}")

    export = LastLogits(model).eval()
    example = torch.tensor([[index[c] for c in "The "]], dtype=torch.long)
    path = os.path.join(HERE, "model.onnx")
    torch.onnx.export(
        export,
        (example,),
        path,
        input_names=["input_ids"],
        output_names=["logits"],
        dynamic_axes={"input_ids": {1: "T"}},
        opset_version=14,
    )
    with open(os.path.join(HERE, "tokenizer.json"), "w") as f:
        json.dump({"type": "char", "vocab": vocab, "context": CONTEXT}, f)
        f.write("\n")
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(
            {
                "name": "demo-lm",
                "description": "Demo character-level transformer trained on Debian's fortunes; writes fortune-flavoured gibberish",
                "parameters": params,
                "context": CONTEXT,
                "vocabulary": len(vocab),
                "metrics": {"held_out_loss": round(held_out_loss, 4), "steps": args.steps},
                "source": f"torch {torch.__version__}, built by models/llm/demo-lm/train.py",
            },
            f,
            indent=2,
        )
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
