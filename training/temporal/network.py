"""The temporal convolutional network: a window of keypoint steps in, a probability out.

Per-channel standardisation (fitted on the training inputs, kept in the model so the
exported file takes raw `sequence_inputs`), a 1x1 convolution to `width` channels, then
residual dilated convolutions (kernel 3, dilations 1, 2, 4: each step sees 15 steps,
3 s), pooled over time three ways (max, mean and the last step: what happens now), and a
linear head. About 12k parameters at width 32 with the 92 input channels.
"""

from __future__ import annotations

import torch
from torch import nn

DILATIONS = (1, 2, 4)


class TemporalNet(nn.Module):
    """(batch, channels, steps) float inputs -> (batch, 1) probabilities."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, channels: int, width: int = 32, dropout: float = 0.1) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, channels, 1))
        self.register_buffer("std", torch.ones(1, channels, 1))
        self.embed = nn.Conv1d(channels, width, kernel_size=1)
        self.blocks = nn.ModuleList(
            nn.Conv1d(width, width, kernel_size=3, padding=d, dilation=d) for d in DILATIONS
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(3 * width, 1)

    def set_scale(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """The per-channel standardisation, shapes (channels,)."""
        self.mean.copy_(mean.reshape(self.mean.shape))
        self.std.copy_(std.reshape(self.std.shape))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, channels, steps) -> (batch,) log-odds."""
        h = torch.relu(self.embed((x - self.mean) / self.std))
        for conv in self.blocks:
            h = h + self.drop(torch.relu(conv(h)))
        pooled = torch.cat([h.amax(dim=-1), h.mean(dim=-1), h[..., -1]], dim=1)
        out: torch.Tensor = self.head(pooled).squeeze(-1)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, channels, steps) -> (batch, 1) probabilities."""
        return torch.sigmoid(self.logits(x)).unsqueeze(-1)


def parameter_count(net: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)
