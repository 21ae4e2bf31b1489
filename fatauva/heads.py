"""The FC heads (paper §4.1.3) and the decoding of the V-A class head.

Every attribute, AU and V-A target has its own head of three FC layers (§4.1.3: "we append
three FC layers"). There are 10 + 14 + 2 of them and each is tiny, so a Python loop over
heads would cost more in dispatch than in arithmetic: `GroupedMLP` keeps the G heads'
weights stacked, (G, in, out) per layer, and runs all of them as one batched matmul
(`torch.baddbmm`) per layer.
"""

import math

import torch
from torch import Tensor, nn

from fatauva import topology

_VA_VALUES = torch.tensor(topology.VA_CLASS_VALUES, dtype=torch.float32)


class GroupedMLP(nn.Module):
    """G independent 3-layer MLPs (FC -> ReLU -> FC -> ReLU -> FC), evaluated together.

    forward: x (N, G, in) -> (logits (N, G, out), embedding (N, G, hidden[1])), where head g
    only ever reads x[:, g] and `embedding` is the input of its last FC layer (the "second
    last FC layer" features of §4.1.3, the centre-loss input).
    """

    def __init__(self, groups: int, c_in: int, hidden: tuple[int, int], c_out: int, dropout: float = 0.0):
        super().__init__()
        sizes = (c_in, *hidden, c_out)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(groups, a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.biases = nn.ParameterList(nn.Parameter(torch.empty(groups, 1, b)) for b in sizes[1:])
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # nn.Linear's default init, per head: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
        for w, b in zip(self.weights, self.biases, strict=True):
            bound = 1.0 / math.sqrt(w.shape[1])
            nn.init.uniform_(w, -bound, bound)
            nn.init.uniform_(b, -bound, bound)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = x.transpose(0, 1)  # (G, N, in): batch dimension of bmm = the head
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            embedding = torch.relu_(torch.baddbmm(b, h, w))
            h = self.dropout(embedding)
        out = torch.baddbmm(self.biases[-1], h, self.weights[-1])
        return out.transpose(0, 1), embedding.transpose(0, 1)


def decode_va_classes(logits: Tensor) -> Tensor:
    """§4.1.3 prediction rule of the V-A class head: logits (..., 11) -> values (...) in [-1, 1].

    Classes are the integers -5..5 (topology.VA_CLASS_VALUES). Take the three most probable
    classes; if their values are consecutive integers in any order (e.g. 1,2,3 or 1,3,2),
    predict their probability-weighted mean, the weights being the three softmax
    probabilities renormalised to sum to 1 (the paper's "weighted sum" over three
    probabilities that need not sum to 1 would shrink the value towards 0); otherwise predict
    the top-1 class. The value is divided by 5, as the paper maps -5..5 to [-1, 1].
    """
    if logits.shape[-1] != len(topology.VA_CLASS_VALUES):
        n = len(topology.VA_CLASS_VALUES)
        raise ValueError(f"expected {n} V-A classes in the last dim, got shape {tuple(logits.shape)}")
    probs = logits.float().softmax(dim=-1)
    top_p, top_i = probs.topk(3, dim=-1)
    values = _VA_VALUES.to(logits.device)[top_i]
    # Three distinct integers are consecutive exactly when they span 2.
    consecutive = (values.amax(dim=-1) - values.amin(dim=-1)) == 2
    weighted = (top_p * values).sum(dim=-1) / top_p.sum(dim=-1)
    value = torch.where(consecutive, weighted, values[..., 0])
    return value / max(topology.VA_CLASS_VALUES)
