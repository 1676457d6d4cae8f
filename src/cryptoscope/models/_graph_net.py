"""The network behind `GraphClassifier`, built inside a function so that torch and PyG load only when used."""

from __future__ import annotations

from typing import Any

USER = "user"


def build(torch: Any, widths: dict[str, int], kinds: tuple[str, ...], *, hidden: int, layers: int,
          dropout: float) -> Any:
    """Per node type a linear input layer, then ``layers`` heterogeneous SAGE layers, then a logit per user.

    ``widths`` gives each node type's input width (``"user"`` and every kind of entity)."""
    from torch_geometric.nn import HeteroConv, SAGEConv

    nn = torch.nn

    def layer() -> Any:
        convs = {(USER, "uses", k): SAGEConv(hidden, hidden) for k in kinds}
        convs |= {(k, "used_by", USER): SAGEConv(hidden, hidden) for k in kinds}
        return HeteroConv(convs, aggr="sum")

    class _Net(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.inputs = nn.ModuleDict({t: nn.Linear(w, hidden) for t, w in sorted(widths.items())})
            self.convs = nn.ModuleList([layer() for _ in range(layers)])
            self.head = nn.Linear(hidden, 1)

        def forward(self, x: dict[str, Any], edges: dict[tuple[str, str, str], Any]) -> Any:
            h = {t: torch.relu(self.inputs[t](v)) for t, v in x.items()}
            for conv in self.convs:
                out = conv(h, edges)
                # a node type that receives no messages (no edges of its kind) keeps its state
                h = {t: nn.functional.dropout(torch.relu(out[t]) if t in out else h[t], p=dropout,
                                              training=self.training) for t in h}
            return self.head(h[USER]).squeeze(-1)

    return _Net()
