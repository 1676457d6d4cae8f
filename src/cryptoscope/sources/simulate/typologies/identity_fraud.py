"""Synthetic identities: new accounts re-using document and selfie images, countries that disagree."""

from __future__ import annotations

import numpy as np

from cryptoscope.sources.simulate import geo
from cryptoscope.sources.simulate.clock import after
from cryptoscope.sources.simulate.config import DAY
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.identity import add_kyc
from cryptoscope.sources.simulate.strings import hex_ids
from cryptoscope.sources.simulate.typologies import PREVALENCE


def synthetic_identities(chunk: Chunk) -> np.ndarray:
    """Groups of 3-8 new accounts built from 1-2 stolen documents and faces. Returns the users."""
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    users = chunk.pick(PREVALENCE["synthetic_identity"], pop.signup >= cfg.t0)
    out = []
    start = 0
    while start < len(users):
        size = int(rng.integers(3, 9))
        group = users[start:start + size]
        start += size
        k = len(group)
        gid = chunk.new_group()
        docs = hex_ids(rng, 2, 16, "doc_")[rng.integers(0, 2, k)]
        faces = hex_ids(rng, 2, 16, "face_")[rng.integers(0, 2, k)]
        # some fakes are "fresh" (unique image) so re-use alone cannot catch all of them
        fresh = rng.random(k) < 0.25
        docs[fresh] = hex_ids(rng, int(fresh.sum()), 16, "doc_")
        doc_country = np.where(rng.random(k) < 0.7, rng.choice(len(geo.CODES), k), pop.country[group])
        ip_country = np.where(rng.random(k) < 0.6, rng.choice(geo.HOSTING, k), pop.country[group])
        times = after(rng, pop.signup[group], 60, 2 * DAY / 1e6)
        decision = rng.choice(np.array(["approved", "rejected", "manual_review"], dtype=object), k, p=[.55, .3, .15])
        ids = add_kyc(chunk, group, times, doc_country, docs, faces, ip_country, decision)
        known = rng.random(k) < 0.7
        chunk.truth(group, "synthetic_identity", "fraudster", pop.signup[group], cfg.t1, known, gid)
        found = times + (rng.uniform(7, 60, k) * DAY).astype(np.int64)
        chunk.label("kyc_submission", ids[known], group[known], "kyc_fraud", times[known], found[known],
                    "investigation")
        out.append(group)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
