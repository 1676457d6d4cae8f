"""Everything one chunk's generators share: config, random stream, users, market, outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.frames import Frames, ts
from cryptoscope.sources.simulate.market import Market
from cryptoscope.sources.simulate.population import Population
from cryptoscope.sources.simulate.wallets import Wallets


@dataclass
class Experiences:
    """What happened to users that they might write to support about (read by the feedback generator)."""

    users: list[np.ndarray] = field(default_factory=list)
    times: list[np.ndarray] = field(default_factory=list)
    topics: list[np.ndarray] = field(default_factory=list)
    severity: list[np.ndarray] = field(default_factory=list)
    amounts: list[np.ndarray] = field(default_factory=list)

    def add(self, users: np.ndarray, times: np.ndarray, topic: str, severity: np.ndarray | float,
            amounts: np.ndarray | float = 0.0) -> None:
        n = len(users)
        self.users.append(np.asarray(users))
        self.times.append(np.asarray(times))
        self.topics.append(np.full(n, topic, dtype=object))
        self.severity.append(np.broadcast_to(np.asarray(severity, dtype=float), (n,)).copy())
        self.amounts.append(np.broadcast_to(np.asarray(amounts, dtype=float), (n,)).copy())


@dataclass
class Chunk:
    cfg: SimConfig
    rng: np.random.Generator
    frames: Frames
    pop: Population
    market: Market
    wallets: Wallets
    experiences: Experiences = field(default_factory=Experiences)
    onchain: list[dict[str, np.ndarray]] = field(default_factory=list)  # transfers to mirror on public chains
    _group: int = 0
    _side: dict[int, np.random.Generator] = field(default_factory=dict)

    def side_rng(self, tag: int) -> np.random.Generator:
        """A random stream of its own for a later addition to the simulator, seeded from (seed, chunk, tag).

        Drawing from it leaves ``rng`` untouched, so every other generator's draws, and the world
        they make, stay what they were before the addition."""
        if tag not in self._side:
            self._side[tag] = np.random.default_rng([self.cfg.seed, self.frames.chunk_index, tag])
        return self._side[tag]

    def new_group(self) -> int:
        """A ring or campaign id unique across the world."""
        self._group += 1
        return (self.frames.chunk_index + 1) * 1_000_000 + self._group

    def truth(self, users: np.ndarray, typology: str, role: str, start: np.ndarray | int, end: np.ndarray | int,
              labelled: np.ndarray | bool, group: np.ndarray | int | None = None) -> None:
        n = len(users)
        start_a = np.broadcast_to(np.asarray(start, dtype=np.int64), (n,))
        end_a = np.maximum(np.broadcast_to(np.asarray(end, dtype=np.int64), (n,)), start_a)
        group_a = None if group is None else np.broadcast_to(np.asarray(group, dtype=np.int64), (n,))
        self.frames.add("ground_truth", truth_id=self.frames.ids("ground_truth", n),
                        user_id=self.pop.user_id[users], event_time=ts(start_a), typology=np.full(n, typology),
                        role=np.full(n, role), group_id=group_a, end_time=ts(end_a),
                        labelled=np.broadcast_to(np.asarray(labelled, dtype=bool), (n,)))

    def label(self, entity_type: str, entity_ids: np.ndarray, users: np.ndarray, label_type: str,
              decision_time: np.ndarray, known_time: np.ndarray, source: str, label: int | np.ndarray = 1) -> None:
        """A label the exchange learns at ``known_time``; dropped when that is after the world ends."""
        keep = np.asarray(known_time) < self.cfg.t1
        n = int(keep.sum())
        values = np.broadcast_to(np.asarray(label, dtype=np.int64), (len(keep),))[keep]
        self.frames.add("labels", label_id=self.frames.ids("labels", n), entity_type=np.full(n, entity_type),
                        entity_id=np.asarray(entity_ids)[keep].astype(str), user_id=self.pop.user_id[users[keep]],
                        label_type=np.full(n, label_type), label=values,
                        decision_time=ts(np.asarray(decision_time)[keep]), event_time=ts(np.asarray(known_time)[keep]),
                        source=np.full(n, source))

    def pick(self, share: float, eligible: np.ndarray | None = None) -> np.ndarray:
        """Indices of about ``share`` x fraud_scale of the (eligible) users, without replacement."""
        pool = np.arange(self.pop.n) if eligible is None else np.flatnonzero(eligible)
        k = min(len(pool), int(self.rng.binomial(len(pool), min(1.0, share * self.cfg.fraud_scale))))
        return np.sort(self.rng.choice(pool, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)
