"""Small PyTorch modules exported by torch.onnx.export (the TorchScript exporter) for the generated
set: conv + batch norm + pooling, a GRU, an attention block with dynamic batch and sequence axes,
and an operator mix (embedding gather, where, cumsum, layer norm). Each is written with inputs and
the outputs PyTorch computes for them, at a batch and sequence length other than the export's."""

import io
import os

import numpy as np
import onnx
import torch
from torch import nn

from generated import FOLDER, tensor

# Float32 graphs of a few hundred operations: onnxruntime and PyTorch agree to this relative tolerance.
TOLERANCE = 1e-4


class ConvBnPool(nn.Module):
    """An image classifier head: conv, ReLU, batch norm (running statistics), max pool, linear. The
    norm follows the ReLU so the exporter cannot fold it into the convolution's weights."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.norm = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        return self.head(torch.flatten(self.pool(self.norm(torch.relu(self.conv(x)))), 1))


class Gru(nn.Module):
    """Two stacked GRU layers over a sequence: every step's state and the last step's."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 5, num_layers=2, batch_first=True)

    def forward(self, x):
        out, _ = self.gru(x)
        return out, out[:, -1, :]


class Attention(nn.Module):
    """Self-attention, residual and layer norm, with a padding mask (true = ignore this step)."""

    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2, batch_first=True)
        self.norm = nn.LayerNorm(8)

    def forward(self, x, mask):
        out, _ = self.attention(x, x, x, key_padding_mask=mask, need_weights=False)
        return self.norm(x + out)


class OpMix(nn.Module):
    """Token ids to vectors (Gather), a leaky where, a running sum (CumSum), layer norm, ArgMax."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        # A module, not functional layer_norm: torch 1.13 exports the latter at opset 17 without its scale.
        self.norm = nn.LayerNorm(4)

    def forward(self, ids, scale):
        v = self.embed(ids) * scale.unsqueeze(-1)
        v = torch.where(v > 0, v, 0.1 * v)
        v = torch.cumsum(v, dim=1)
        v = self.norm(v)
        return v, torch.argmax(v, dim=-1)


def export(name, module, opset, examples, feeds, input_names, output_names, dynamic_axes):
    """Exports `module` traced on `examples`, saves it, and returns its case for `feeds`."""
    module.eval()
    buffer = io.BytesIO()
    # Traced with gradients on: without them MultiheadAttention takes a fused path the exporter lacks.
    torch.onnx.export(module, examples, buffer, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, opset_version=opset, do_constant_folding=True)
    with torch.no_grad():
        results = module(*[torch.from_numpy(f) for f in feeds])
    model = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(FOLDER, f"{name}.onnx"))
    results = results if isinstance(results, tuple) else (results,)
    return {"name": name, "opset": opset, "source": f"torch {torch.__version__}", "tolerance": TOLERANCE,
            "inputs": [tensor(n, f) for n, f in zip(input_names, feeds)],
            "outputs": [tensor(n, r.numpy()) for n, r in zip(output_names, results)]}


def build_torch_cases():
    torch.manual_seed(0)
    rng = np.random.RandomState(1)
    cases = []

    conv = ConvBnPool()
    conv.norm.running_mean.copy_(torch.rand(4))
    conv.norm.running_var.copy_(torch.rand(4) + 0.5)
    image = lambda n: rng.rand(n, 1, 6, 6).astype(np.float32)  # noqa: E731
    cases.append(export("torch-conv-bn-pool", conv, 11, (torch.from_numpy(image(2)),), [image(3)],
                        ["image"], ["logits"], {"image": {0: "N"}, "logits": {0: "N"}}))

    steps = lambda n, t: rng.randn(n, t, 3).astype(np.float32)  # noqa: E731
    cases.append(export("torch-gru", Gru(), 14, (torch.from_numpy(steps(2, 5)),), [steps(3, 7)],
                        ["x"], ["states", "last"],
                        {"x": {0: "N", 1: "T"}, "states": {0: "N", 1: "T"}, "last": {0: "N"}}))

    tokens = lambda n, t: rng.randn(n, t, 8).astype(np.float32)  # noqa: E731
    mask = np.zeros((3, 6), dtype=bool)
    mask[1, 4:] = True  # the second sequence is 4 steps long, padded to 6
    cases.append(export("torch-attention", Attention(), 14,
                        (torch.from_numpy(tokens(2, 5)), torch.zeros(2, 5, dtype=torch.bool)),
                        [tokens(3, 6), mask], ["x", "mask"], ["y"],
                        {"x": {0: "N", 1: "T"}, "mask": {0: "N", 1: "T"}, "y": {0: "N", 1: "T"}}))

    ids = lambda n, t: rng.randint(0, 10, (n, t)).astype(np.int64)  # noqa: E731
    scale = lambda n, t: rng.randn(n, t).astype(np.float32)  # noqa: E731
    cases.append(export("torch-op-mix", OpMix(), 17, (torch.from_numpy(ids(2, 5)), torch.from_numpy(scale(2, 5))),
                        [ids(3, 4), scale(3, 4)], ["ids", "scale"], ["vectors", "top"],
                        {"ids": {0: "N", 1: "T"}, "scale": {0: "N", 1: "T"},
                         "vectors": {0: "N", 1: "T"}, "top": {0: "N", 1: "T"}}))
    return cases
