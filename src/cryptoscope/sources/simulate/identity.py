"""Accounts and KYC submissions of ordinary users."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cryptoscope.sources.simulate import geo
from cryptoscope.sources.simulate.clock import after
from cryptoscope.sources.simulate.config import DAY
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.frames import ts
from cryptoscope.sources.simulate.population import KINDS, MARKET_MAKER, WHALE
from cryptoscope.sources.simulate.strings import hex_ids, sha256_hex, take

DOC_TYPES = np.array(["passport", "id_card", "driving_licence", "residence_permit"], dtype=object)
REJECT_REASONS = np.array(["blurry_image", "document_expired", "name_mismatch", "face_mismatch",
                           "unsupported_document", "duplicate_identity"], dtype=object)


def write_accounts(chunk: Chunk) -> None:
    pop, rng, n = chunk.pop, chunk.rng, chunk.pop.n
    first = rng.integers(0, len(geo.FIRST_NAMES), n)
    last = rng.integers(0, len(geo.LAST_NAMES), n)
    names = [f"{geo.FIRST_NAMES[a]} {geo.LAST_NAMES[b]}" for a, b in zip(first.tolist(), last.tolist(), strict=True)]
    street = rng.integers(0, len(geo.STREETS), n)
    addresses = [f"{k} {geo.STREETS[s]}" for k, s in zip(rng.integers(1, 300, n).tolist(), street.tolist(),
                                                         strict=True)]
    dob = (rng.uniform(18, 75, n) * -365.25).astype(np.int64) + 20_000  # days since epoch, adults in 2025
    segment = np.where(pop.kind == WHALE, "vip", np.where(pop.kind == MARKET_MAKER, "institutional", "retail"))
    chunk.frames.add(
        "accounts", user_id=pop.user_id, event_time=ts(pop.signup), full_name=names,
        email_hash=sha256_hex(pop.user_id), phone_hash=hex_ids(rng, n, 16),
        date_of_birth=dob.astype("datetime64[D]"), country=take(geo.CODES, pop.country), address=addresses,
        signup_ip=take(pop.ips, pop.home_ip), signup_device_id=take(pop.devices, pop.device_start),
        referrer_user_id=pa.array(pop.referrer, mask=pop.referrer < 0), segment=segment,
        kyc_level=np.zeros(n, dtype=np.int64))



def write_user_kinds(chunk: Chunk) -> None:
    """The latent kind each user was drawn as (``user_kinds``): truth to evaluate segments against, never a feature."""
    pop = chunk.pop
    chunk.frames.add("user_kinds", user_id=pop.user_id, event_time=ts(np.full(pop.n, chunk.cfg.t0)),
                     kind=take(np.asarray(KINDS, dtype=object), pop.kind))

def add_kyc(chunk: Chunk, users: np.ndarray, times: np.ndarray, doc_country: np.ndarray, doc_hash: np.ndarray,
            selfie_hash: np.ndarray, ip_country: np.ndarray, decision: np.ndarray) -> np.ndarray:
    rng, n = chunk.rng, len(users)
    ids = chunk.frames.ids("kyc_submissions", n)
    decided = after(rng, times, 60, 3 * DAY / 1e6)
    rejected = decision == "rejected"
    reason = [REJECT_REASONS[i] if r else None
              for i, r in zip(rng.integers(0, len(REJECT_REASONS), n).tolist(), rejected.tolist(), strict=True)]
    chunk.frames.add(
        "kyc_submissions", submission_id=ids, user_id=chunk.pop.user_id[users], event_time=ts(times),
        level=np.where(rng.random(n) < 0.8, 1, 2),
        document_type=take(DOC_TYPES, rng.choice(4, n, p=[0.45, 0.4, 0.1, 0.05])),
        document_country=take(geo.CODES, doc_country), document_number=hex_ids(rng, n, 9, "N"),
        document_hash=doc_hash, selfie_hash=selfie_hash, ip_country=take(geo.CODES, ip_country), decision=decision,
        decision_time=ts(decided, decision == "manual_review"), reject_reason=reason)
    severity = rng.uniform(0.2, 0.8, int(rejected.sum()))
    chunk.experiences.add(users[rejected], decided[rejected], "kyc_rejected", severity)
    return ids


def normal_kyc(chunk: Chunk) -> None:
    pop, rng, n = chunk.pop, chunk.rng, chunk.pop.n
    times = after(rng, pop.signup, 120, 5 * DAY / 1e6)
    expat = rng.random(n) < 0.05  # living abroad: document from elsewhere, a weak false signal
    doc_country = np.where(expat, rng.choice(len(geo.CODES), n, p=geo.WEIGHT), pop.country)
    ip_country = np.where(rng.random(n) < 0.04, rng.choice(len(geo.CODES), n, p=geo.WEIGHT), pop.country)
    decision = rng.choice(np.array(["approved", "rejected", "manual_review"], dtype=object), n, p=[0.92, 0.05, 0.03])
    doc, selfie = hex_ids(rng, n, 16, "doc_"), hex_ids(rng, n, 16, "face_")
    add_kyc(chunk, np.arange(n), times, doc_country, doc, selfie, ip_country, decision)
    # most rejected users try again with the same document and a better photo
    again = np.flatnonzero((decision == "rejected") & (rng.random(n) < 0.7))
    add_kyc(chunk, again, after(rng, times[again], 3600, 7 * DAY / 1e6), doc_country[again], doc[again],
            selfie[again], pop.country[again], np.full(len(again), "approved", dtype=object))
