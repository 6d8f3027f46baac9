"""The digits-cnn network, on its own so the PyTorch peer of `npm run bench` (bench/peers/torch_digits.py)
rebuilds the very network models/nets.py trains, without importing the training code."""

import torch
from torch import nn


class DigitsCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        return self.head(torch.flatten(self.features(x), 1))
