"""Token recommendations from chain data: what do wallets like the user's own wallets hold or use?

A wallet is the set of tokens it moved (sent or received), weighted by log counts and IDF so a
token everyone touches (WETH, USDT) says less than a niche one. A user's profile is the sum of
their linked wallets (the addresses they deposit from and withdraw to); the nearest wallets by
cosine similarity vote for the tokens the user has not touched yet. Judged by leave-one-out on
wallets with several tokens, against recommending the most popular tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import sparse

from cryptoscope.chain.backend import Source, backend_of, lake_table
from cryptoscope.errors import CryptoscopeError


def wallet_tokens() -> ir.Table:
    """wallet, token, chain, n: how many transfers of each token each wallet sent or received."""
    tok = lake_table("eth_token_transfers")
    ends = [tok.select(wallet=tok[side], token=tok.token_address, chain=tok.chain)
            for side in ("from_address", "to_address")]
    moved = ends[0].union(ends[1], distinct=False)
    return moved.group_by(["wallet", "token", "chain"]).aggregate(n=moved.count())


@dataclass(frozen=True)
class RecoEvaluation:
    wallets: int
    k: int
    hit_rate: float
    popularity_hit_rate: float


class WalletTokenRecommender:
    """fit(wallet-token counts) then recommend(wallets); parameters only in __init__, state ends in ``_``."""

    def __init__(self, neighbours: int = 50) -> None:
        self.neighbours = neighbours

    def fit(self, counts: pd.DataFrame) -> WalletTokenRecommender:
        """``counts``: wallet, token, n (transfers of that token by that wallet), optionally chain
        (then a user is only offered tokens of the chains their wallets are on)."""
        if counts.empty:
            raise CryptoscopeError("no token transfers to learn from")
        w_codes, self.wallets_ = pd.factorize(counts["wallet"])
        t_codes, self.tokens_ = pd.factorize(counts["token"])
        shape = (len(self.wallets_), len(self.tokens_))
        raw = sparse.csr_matrix((np.log1p(counts["n"].to_numpy(float)), (w_codes, t_codes)), shape=shape)
        df = np.bincount(t_codes, minlength=shape[1])
        self.idf_ = np.log((1 + shape[0]) / (1 + df)) + 1
        self.popularity_ = np.argsort(-df, kind="stable")
        self.matrix_ = _normalise(raw @ sparse.diags(self.idf_))
        self.binary_ = sparse.csr_matrix((np.ones(len(counts)), (w_codes, t_codes)), shape=shape)
        self._wallet_index = pd.Index(self.wallets_)
        self.token_chain_ = (counts.drop_duplicates("token").set_index("token")["chain"].reindex(self.tokens_)
                             .to_numpy() if "chain" in counts else None)
        self.wallet_chains_ = (counts.groupby("wallet")["chain"].agg(set) if "chain" in counts else None)
        return self

    def fit_lake(self, source: Source) -> WalletTokenRecommender:
        backend = backend_of(source)
        return self.fit(backend.to_pandas(wallet_tokens()))

    def recommend(self, wallets: list[str], k: int = 5, exclude: set[str] | None = None) -> list[tuple[str, float]]:
        """Top-k tokens for the owner of ``wallets`` (tokens they already moved left out)."""
        rows = self._wallet_index.get_indexer(pd.Index(wallets))
        rows = rows[rows >= 0]
        if not len(rows):
            return []
        profile = _normalise(sparse.csr_matrix(self.matrix_[rows].sum(axis=0)))
        return self._rank(profile, set(rows.tolist()), k, exclude, self._chains_of(rows))

    def _chains_of(self, rows: np.ndarray) -> set[str] | None:
        if self.wallet_chains_ is None:
            return None
        return set().union(*self.wallet_chains_.reindex(self.wallets_[rows]).dropna())

    def _rank(self, profile: sparse.csr_matrix, own: set[int], k: int, exclude: set[str] | None,
              chains: set[str] | None) -> list[tuple[str, float]]:
        sims = np.asarray((self.matrix_ @ profile.T).todense()).ravel()
        sims[list(own)] = 0
        top = np.argsort(-sims, kind="stable")[:self.neighbours]
        top = top[sims[top] > 0]
        scores = np.asarray(self.binary_[top].T @ sims[top]).ravel() if len(top) else np.zeros(len(self.tokens_))
        # popularity breaks ties and fills the list when the neighbours run out, at a weight below any vote
        scores = scores + 1e-6 * (len(self.tokens_) - np.argsort(self.popularity_)) / len(self.tokens_)
        scores[profile.indices] = 0
        if exclude:
            scores[[i for i, t in enumerate(self.tokens_) if t in exclude]] = 0
        if chains is not None and self.token_chain_ is not None:
            scores[~np.isin(self.token_chain_, list(chains))] = 0
        best = [i for i in np.argsort(-scores, kind="stable")[:k] if scores[i] > 0]
        return [(str(self.tokens_[i]), float(scores[i])) for i in best]

    def recommend_user(self, source: Source, user_id: int, k: int = 5) -> list[tuple[str, float]]:
        """Via the user's linked wallets: the addresses of their deposits and withdrawals."""
        transfers = lake_table("chain_transfers")
        linked = backend_of(source).to_pyarrow(transfers.filter(transfers.user_id == user_id).select("address")
                                               .distinct())
        return self.recommend([str(a) for a in linked["address"].to_pylist()], k)


def _normalise(m: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sparse.csr_matrix(sparse.diags(1 / norms) @ m)


def leave_one_out(counts: pd.DataFrame, k: int = 5, min_tokens: int = 2, neighbours: int = 50,
                  seed: int = 0) -> RecoEvaluation:
    """Hide one random token of each wallet with ``min_tokens``+ tokens, refit, and check the top k."""
    per_wallet = counts.groupby("wallet")["token"].nunique()
    eligible = per_wallet[per_wallet >= min_tokens].index.to_numpy()
    if not len(eligible):
        raise CryptoscopeError(f"no wallet moved {min_tokens} or more tokens")
    hidden = counts[counts["wallet"].isin(eligible)].groupby("wallet").sample(n=1, random_state=seed)
    keep = counts.merge(hidden[["wallet", "token"]], on=["wallet", "token"], how="left", indicator=True)
    train = keep[keep["_merge"] == "left_only"].drop(columns="_merge")
    model = WalletTokenRecommender(neighbours).fit(train)
    hits = pop_hits = 0
    for wallet, token in zip(hidden["wallet"], hidden["token"], strict=True):
        seen = set(train.loc[train["wallet"] == wallet, "token"])
        hits += token in {t for t, _ in model.recommend([wallet], k)}
        popular = [str(model.tokens_[i]) for i in model.popularity_ if model.tokens_[i] not in seen][:k]
        pop_hits += token in popular
    return RecoEvaluation(len(hidden), k, round(hits / len(hidden), 4), round(pop_hits / len(hidden), 4))
