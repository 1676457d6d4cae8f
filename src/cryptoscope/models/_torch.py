"""What the torch models (`sequence.py`, `graph.py`) share: seeded, deterministic settings, feature scaling and
pickling their network as its weights.

Why pickling needs help: torch is imported lazily (the trees need none of it), so each network's class is built
inside a function and cannot pickle as an object; the registry stores estimators with joblib. A model keeps
its fitted network in ``net_`` and says how to build an empty one in ``_network(torch)``.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import numpy as np


class TorchWeights(ABC):
    """Mixin (before ``BaseEstimator``): ``net_`` pickles as its state dict and comes back as an evaluating
    network of the same shape."""

    @abstractmethod
    def _network(self, torch: Any) -> Any:
        """An untrained network of the fitted shape (each model class says how it builds its own)."""

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = dict(super().__getstate__())  # type: ignore[call-overload]
        if "net_" in state:
            state["net_"] = {k: v.clone() for k, v in state["net_"].state_dict().items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights = state.get("net_")
        super().__setstate__({k: v for k, v in state.items() if k != "net_"})  # type: ignore[misc]
        if isinstance(weights, dict):
            import torch

            net = self._network(torch)
            net.load_state_dict(weights)
            self.net_ = net.eval()


def scale(std: np.ndarray) -> np.ndarray:
    """Standard deviations to divide by: a constant column (or a NaN one) divides by 1."""
    std = np.nan_to_num(np.asarray(std, dtype=float))
    return np.where(std > 1e-9, std, 1.0)


@contextlib.contextmanager
def torch_settings(threads: int) -> Iterator[None]:
    """``threads`` torch threads and deterministic algorithms, then the caller's settings back."""
    import torch

    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    torch.set_num_threads(max(1, threads))
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        torch.use_deterministic_algorithms(before[1])
