"""``SequenceClassifier``: a small GRU over an entity's recent events, beside its tabular features.

Why a sequence model at all: hand-built aggregates (counts, means over windows) lose the order of
events. A GRU reads the entity's last ``steps`` events one by one, and its final state joins an MLP of
the decision's own tabular features; one logit comes out. It follows the scikit-learn contract of
`RiskClassifier` (``fit(X, y)``, ``predict_proba(X)``, deterministic for a ``random_state``) so the
harness, calibration and stacking treat it like any other classifier. ``X`` stays 2-D: the first
columns are the tabular features, the last ``steps * event_features`` columns the sequence, flattened
step by step (oldest step first, padding steps all zero). ``decision_function`` gives the logit, which
a tree model can take as one more feature (a hybrid).

Small on purpose: risk data has few bad rows (under 1% here), and CPU is the default. Training uses
one thread by default and deterministic torch algorithms, restoring the caller's settings afterwards.

Example::

    model = SequenceClassifier(steps=10, event_features=8, epochs=6).fit(X_train, y_train)
    scores = model.predict_proba(X_test)[:, 1]
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models._torch import TorchWeights, scale, torch_settings


class SequenceClassifier(TorchWeights, ClassifierMixin, BaseEstimator):
    """GRU over the last ``steps`` events (``event_features`` each) plus an MLP over the other columns of ``X``.

    ``hidden`` is the GRU's and the MLP's width; ``epochs`` passes over the data with Adam at
    ``learning_rate``; ``threads`` torch threads while fitting and scoring.
    """

    def __init__(self, steps: int = 10, event_features: int = 8, *, hidden: int = 32, epochs: int = 6,
                 batch_size: int = 512, learning_rate: float = 3e-3, weight_decay: float = 1e-5,
                 random_state: int = 0, threads: int = 1) -> None:
        self.steps = steps
        self.event_features = event_features
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.threads = threads

    # -- the scikit-learn surface -------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> Self:
        """Fit on ``X`` (tabular columns, then the flattened sequence) and ``y`` (0 = good, 1 = bad)."""
        import torch

        data = self._array(X)
        target = np.asarray(y, dtype=float)
        if target.shape != (len(data),):
            raise CryptoscopeError(f"the label has shape {target.shape}; expected one value per row ({len(data)})")
        if not np.isin(target, (0.0, 1.0)).all() or target.min() == target.max():
            raise CryptoscopeError("the label must hold both 0 (good) and 1 (bad) values")
        self.n_features_in_ = data.shape[1]
        self.n_static_ = data.shape[1] - self.steps * self.event_features
        static, seq = self._split(data)
        # standardise with training statistics; missing tabular values become the mean (0 after scaling)
        self.static_mean_ = np.nan_to_num(np.nanmean(static, axis=0)) if self.n_static_ else np.zeros(0)
        self.static_scale_ = scale(np.nanstd(static, axis=0)) if self.n_static_ else np.ones(0)
        flat = seq.reshape(-1, self.event_features)
        self.event_mean_, self.event_scale_ = flat.mean(axis=0), scale(flat.std(axis=0))
        self.classes_ = np.array([0, 1])
        with torch_settings(self.threads), torch.random.fork_rng():
            torch.manual_seed(self.random_state)
            net = self._network(torch)
            xs, xq = self._tensors(torch, static, seq)
            yt = torch.as_tensor(target, dtype=torch.float32)
            opt = torch.optim.Adam(net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
            loss_fn = torch.nn.BCEWithLogitsLoss()
            gen = torch.Generator().manual_seed(self.random_state)
            self.loss_curve_: list[float] = []
            net.train()
            for _ in range(self.epochs):
                total = 0.0
                for batch in torch.randperm(len(yt), generator=gen).split(self.batch_size):
                    opt.zero_grad()
                    loss = loss_fn(net(xs[batch], xq[batch]), yt[batch])
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(batch)
                self.loss_curve_.append(total / len(yt))
            net.eval()
        self.net_ = net
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """The logit of each row: a ranking score, and the learned feature a hybrid feeds to trees."""
        import torch

        check_is_fitted(self, "net_")
        data = self._array(X)
        if data.shape[1] != self.n_features_in_:
            raise CryptoscopeError(f"X has {data.shape[1]} columns; the model was fitted on {self.n_features_in_}")
        static, seq = self._split(data)
        out = []
        with torch_settings(self.threads), torch.no_grad():
            xs, xq = self._tensors(torch, static, seq)
            for start in range(0, len(xs), 8192):
                out.append(self.net_(xs[start:start + 8192], xq[start:start + 8192]).numpy())
        return np.concatenate(out).astype(float) if out else np.zeros(0)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns: probability of good, probability of bad (uncalibrated)."""
        bad = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - bad, bad])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: Any) -> np.ndarray:
        """Gradient x input per row and column of ``X``: each input's push on the logit, measured from the
        training mean (the standardised zero), so a column at its usual value pushes nothing. Reason codes
        read these; over the sequence columns they say which earlier events raised the score."""
        import torch

        check_is_fitted(self, "net_")
        static, seq = self._split(self._array(X))
        with torch_settings(self.threads):
            xs, xq = self._tensors(torch, static, seq)
            xs.requires_grad_(True)
            xq.requires_grad_(True)
            self.net_(xs, xq).sum().backward()
            grads = [torch.zeros_like(x) if x.grad is None else x.grad for x in (xs, xq)]
            parts = [(grads[0] * xs).detach().numpy(), (grads[1] * xq).detach().numpy().reshape(len(xq), -1)]
        return np.hstack(parts).astype(float)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing tabular values become the training mean
        return tags

    def _network(self, torch: Any) -> Any:
        return _build(torch, int(self.n_static_), int(self.event_features), int(self.hidden))

    # -- helpers ---------------------------------------------------------------------------------------
    def _array(self, X: Any) -> np.ndarray:
        data = np.asarray(X, dtype=np.float64)
        width = self.steps * self.event_features
        if data.ndim != 2 or data.shape[1] < width:
            raise CryptoscopeError(f"expected a 2-D table with at least steps * event_features = {width} columns "
                                   f"(the flattened sequence last), got shape {data.shape}")
        return data

    def _split(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        static = data[:, : data.shape[1] - self.steps * self.event_features]
        seq = data[:, static.shape[1]:].reshape(len(data), self.steps, self.event_features)
        return static, seq

    def _tensors(self, torch: Any, static: np.ndarray, seq: np.ndarray) -> tuple[Any, Any]:
        xs = np.nan_to_num((static - self.static_mean_) / self.static_scale_) if static.shape[1] else static
        xq = np.nan_to_num((seq - self.event_mean_) / self.event_scale_)
        return (torch.as_tensor(xs, dtype=torch.float32).reshape(len(static), -1),
                torch.as_tensor(xq, dtype=torch.float32))


def _build(torch: Any, n_static: int, event_features: int, hidden: int) -> Any:
    nn = torch.nn

    class _Net(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.gru = nn.GRU(event_features, hidden, batch_first=True)
            self.static = nn.Sequential(nn.Linear(n_static, hidden), nn.ReLU()) if n_static else None
            width = hidden * (2 if n_static else 1)
            self.head = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, 1))

        def forward(self, static: Any, seq: Any) -> Any:
            _, state = self.gru(seq)
            parts = [state[-1]] + ([self.static(static)] if self.static is not None else [])
            return self.head(torch.cat(parts, dim=1)).squeeze(-1)

    return _Net()
