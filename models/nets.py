"""Neural network samples trained with PyTorch (Debian python3-torch) and exported with
torch.onnx.export: a CNN and a Transformer encoder on scikit-learn's 8x8 digits, and an
LSTM forecaster on the yearly sunspot numbers that python3-statsmodels ships."""

import csv
import os

import numpy as np
import torch
from common import write
from digits_cnn import DigitsCnn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

SOURCE = f"PyTorch {torch.__version__}, exported with torch.onnx.export by models/build.py"
DIGIT_LABELS = [str(d) for d in range(10)]
SUNSPOTS = "/usr/lib/python3/dist-packages/statsmodels/datasets/sunspots/sunspots.csv"
WINDOW = 12
PARITY_ROWS = 64


class Classifier(nn.Module):
    """Wraps a network that gives logits so the graph answers `label` and `probabilities`."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        logits = self.net(x)
        return torch.argmax(logits, dim=1), torch.softmax(logits, dim=1)


class DigitsTransformer(nn.Module):
    """Each image row is a token: 8 tokens of 8 pixels, one encoder layer, mean pooled."""

    def __init__(self, d_model=32):
        super().__init__()
        self.embed = nn.Linear(8, d_model)
        self.position = nn.Parameter(torch.zeros(1, 8, d_model))
        layer = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, 10)

    def forward(self, x):
        return self.head(self.encoder(self.embed(x) + self.position).mean(dim=1))


class Forecaster(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1, :])


def train(net, x, y, loss_fn, epochs, lr=0.01, batch=64):
    torch.manual_seed(0)
    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = order[i : i + batch]
            optimiser.zero_grad()
            loss_fn(net(x[idx]), y[idx]).backward()
            optimiser.step()
    net.eval()
    return net


def export(model, example, input_names, output_names, name):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f".{name}.tmp.onnx")
    dynamic = {n: {0: "N"} for n in input_names + output_names}
    torch.onnx.export(model, example, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic, opset_version=14, do_constant_folding=True)
    import onnx

    graph = onnx.load(path)
    os.remove(path)
    onnx.checker.check_model(graph)
    return graph


def digits(shape):
    data = load_digits()
    x = (data.images / 16.0).astype(np.float32).reshape((-1, *shape))
    return train_test_split(x, data.target, test_size=0.25, random_state=0)


def build_digits(name, net, shape, epochs, description):
    torch.manual_seed(0)
    x_train, x_test, y_train, y_test = digits(shape)
    train(net, torch.from_numpy(x_train), torch.from_numpy(y_train), nn.CrossEntropyLoss(), epochs)
    model = Classifier(net).eval()
    with torch.no_grad():
        accuracy = float((model(torch.from_numpy(x_test))[0].numpy() == y_test).mean())
        probe = x_test[:PARITY_ROWS]
        labels, probabilities = model(torch.from_numpy(probe))
    graph = export(model, torch.from_numpy(probe[:2]), ["input"], ["label", "probabilities"], name)
    write(
        name,
        graph,
        {
            "description": f"{description}; held-out accuracy {accuracy:.4f}",
            "labels": DIGIT_LABELS,
            "metrics": {"test_accuracy": round(accuracy, 4), "test_rows": len(y_test)},
            "source": SOURCE,
        },
        probe,
        {
            "predictions": [DIGIT_LABELS[int(c)] for c in labels],
            "probabilities": probabilities.numpy().astype(float).tolist(),
        },
    )


def build_digits_cnn():
    build_digits("digits-cnn", DigitsCnn(), (1, 8, 8), 30,
                 "Small CNN (2 conv layers) on scikit-learn's 8x8 digits, pixels scaled to [0, 1]")


def build_digits_transformer():
    build_digits("digits-transformer", DigitsTransformer(), (8, 8), 40,
                 "Transformer encoder (1 layer, 4 heads) over the 8 rows of scikit-learn's 8x8 digits")


def sunspots():
    """Yearly mean sunspot numbers 1700-2008 (SIDC), as python3-statsmodels ships them."""
    with open(SUNSPOTS) as f:
        return np.array([float(row["SUNACTIVITY"]) for row in csv.DictReader(f)], dtype=np.float32)


def build_sequence_lstm():
    series = sunspots()
    scale = float(series.max())
    scaled = series / scale
    x = np.stack([scaled[i : i + WINDOW] for i in range(len(scaled) - WINDOW)])[:, :, None]
    y = scaled[WINDOW:, None]
    split = int(len(x) * 0.8)  # the last 20 % of years held out
    net = train(Forecaster(), torch.from_numpy(x[:split]), torch.from_numpy(y[:split]), nn.MSELoss(), 200)
    with torch.no_grad():
        held = net(torch.from_numpy(x[split:])).numpy()
        probe = x[split:][:PARITY_ROWS]
        predicted = net(torch.from_numpy(probe)).numpy()
    mae = float(np.abs(held - y[split:]).mean() * scale)
    graph = export(net, torch.from_numpy(probe[:2]), ["input"], ["prediction"], "sequence-lstm")
    write(
        "sequence-lstm",
        graph,
        {
            "description": (
                f"LSTM (16 units) forecasting next year's sunspot number from the previous {WINDOW}, "
                f"values divided by {scale:g}; held-out MAE {mae:.1f} sunspots"
            ),
            "metrics": {"test_mae_scaled": round(mae / scale, 4), "scale": scale, "window": WINDOW},
            "source": f"{SOURCE}; data: yearly sunspot numbers 1700-2008 from python3-statsmodels",
        },
        probe,
        {"predictions": [float(v) for v in predicted.ravel()]},
    )
