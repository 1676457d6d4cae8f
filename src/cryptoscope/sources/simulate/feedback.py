"""Support tickets and surveys that follow what each user really went through."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cryptoscope.sources.simulate import geo
from cryptoscope.sources.simulate.clock import after, user_events
from cryptoscope.sources.simulate.config import HOUR
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.feedback_text import survey_comments, ticket_texts
from cryptoscope.sources.simulate.frames import ts

CATEGORY = {"slow_withdrawal": "withdrawal", "deposit_missing": "deposit", "kyc_rejected": "verification",
            "account_frozen": "account", "login_problem": "security", "trading_loss": "trading",
            "card_declined": "payment", "high_fees": "fees", "app_bug": "app", "general_question": "other",
            "praise": "other"}
#: how long agents take per topic (median hours) and how much a bad outcome hurts satisfaction
_HOURS = {"slow_withdrawal": 20, "deposit_missing": 18, "kyc_rejected": 30, "account_frozen": 60,
          "login_problem": 40, "trading_loss": 12, "card_declined": 6, "high_fees": 5, "app_bug": 15,
          "general_question": 3, "praise": 2}
_BACKGROUND = ("high_fees", "app_bug", "general_question", "praise")


def _language(chunk: Chunk, users: np.ndarray) -> np.ndarray:
    native = geo.LANGUAGE[chunk.pop.country[users]]
    return np.where(chunk.rng.random(len(users)) < 0.25, "en", native).astype(object)


def tickets(chunk: Chunk) -> dict[int, tuple[float, str]]:
    """Write tickets; returns each ticketing user's worst satisfaction (1-5) and its topic, for surveys."""
    pop, rng, cfg, ex = chunk.pop, chunk.rng, chunk.cfg, chunk.experiences
    users = np.concatenate([*ex.users, np.zeros(0, dtype=np.int64)]).astype(np.int64)
    times = np.concatenate([*ex.times, np.zeros(0, dtype=np.int64)])
    topics = np.concatenate([*ex.topics, np.zeros(0, dtype=object)])
    severity = np.concatenate([*ex.severity, np.zeros(0)])
    amounts = np.concatenate([*ex.amounts, np.zeros(0)])
    writes = rng.random(len(users)) < 0.25 + 0.5 * severity  # people with worse problems write more often
    bu, bt = user_events(rng, cfg, pop, np.full(pop.n, 0.002))
    users = np.concatenate([users[writes], bu])
    times = np.concatenate([times[writes], bt])
    topics = np.concatenate([topics[writes], np.array(_BACKGROUND, dtype=object)[rng.integers(0, 4, len(bu))]])
    severity = np.concatenate([severity[writes], rng.uniform(0, 0.4, len(bu))])
    amounts = np.concatenate([amounts[writes], np.zeros(len(bu))])
    opened = after(rng, times, 60, 2 * 86_400)
    keep = (opened >= cfg.t0) & (opened < cfg.t1)
    users, opened, topics, severity, amounts = (a[keep] for a in (users, opened, topics, severity, amounts))
    n = len(users)
    if not n:
        return {}
    lang = _language(chunk, users)
    subjects, bodies = ticket_texts(rng, topics, lang, severity, amounts)
    channel = rng.choice(np.array(["chat", "email", "app", "social"], dtype=object), n, p=[0.45, 0.3, 0.2, 0.05])
    median = np.array([_HOURS[t] for t in topics]) * np.where(channel == "chat", 0.6, 1.0)
    hours = median * rng.lognormal(0, 0.8, n)
    resolved_at = opened + (hours * HOUR).astype(np.int64)
    done = resolved_at < cfg.t1
    escalated = done & (severity > 0.8) & (rng.random(n) < 0.3)
    csat_latent = 4.6 - 1.6 * severity - 0.9 * np.log1p(hours / 24) + rng.normal(0, 0.6, n)
    csat_latent += np.where(topics == "praise", 1.0, 0.0)
    csat = np.clip(np.rint(csat_latent), 1, 5).astype(np.int64)
    answered = done & (rng.random(n) < 0.45)
    chunk.frames.add("tickets", ticket_id=chunk.frames.ids("tickets", n), user_id=pop.user_id[users],
                     event_time=ts(opened), channel=channel, language=lang,
                     category=[CATEGORY[t] if rng.random() < 0.85 else "other" for t in topics], subject=subjects,
                     text=bodies, status=np.where(~done, "open", np.where(escalated, "escalated", "resolved")),
                     resolved_time=ts(np.where(done, resolved_at, 0), ~done),
                     resolution_hours=np.where(done, np.round(hours, 2), np.nan), csat=pa.array(csat, mask=~answered))
    worst: dict[int, tuple[float, str]] = {}
    for u, c, t in zip(users.tolist(), csat_latent.tolist(), topics.tolist(), strict=True):
        if c < worst.get(u, (5.0, ""))[0]:
            worst[u] = (c, t)
    return worst


def surveys(chunk: Chunk, worst: dict[int, tuple[float, str]]) -> None:
    """NPS answers: detractors are mostly people support failed; promoters mostly had no trouble."""
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    users, times = user_events(rng, cfg, pop, np.full(pop.n, 0.003))
    n = len(users)
    if not n:
        return
    experience = np.array([worst.get(u, (4.5, ""))[0] for u in users.tolist()])
    latent = 2.2 * experience - 1.5 + 1.2 * np.log10(pop.wealth[users] / 300) + rng.normal(0, 1.5, n)
    nps = np.clip(np.rint(latent), 0, 10).astype(np.int64)
    topic = np.array([worst[u][1] if u in worst and worst[u][0] < 3.5 else "none" for u in users.tolist()],
                     dtype=object)
    lang = _language(chunk, users)
    comments = survey_comments(rng, nps, topic, lang)
    chunk.frames.add("surveys", survey_id=chunk.frames.ids("surveys", n), user_id=pop.user_id[users],
                     event_time=ts(times), survey_type=np.full(n, "nps"),
                     channel=rng.choice(np.array(["app", "email", "web"], dtype=object), n), language=lang,
                     nps=nps, comment=comments)
