"""Support-ticket and survey text from what a simulated exchange user really experienced.

The text is written so that sentiment, topic and driver analysis on it is a real problem: every topic and
language has several hand-written templates (``feedback_templates``) with slots for amounts written as a
person writes them ("$1,250", "1.250 USD", "0,0213 BTC"), assets, durations that grow with severity
("2 hours" .. "3 weeks"), transaction/order references and error codes. Tone follows severity (polite,
neutral, angry, furious: caps, "!!!", threats to leave or to go to the regulator), with mixed signals
(polite openers on furious tickets, sarcasm), ~15% vague tickets whatever the topic, shared vocabulary
between topics (deposits and withdrawals are both "transfers"), non-native English, English fragments in
other languages (code-switching), texts typed without accents, and typos (``apply_typos``).

Every random choice comes from the ``numpy.random.Generator`` passed in, so the output is a function of
its seed. Random numbers are drawn for all rows at once; rows are then grouped by (topic, language) and the
templates of each group filled in one pass.

Throughput (measured once on the 2-core development machine, shared with other jobs; 200,000 mixed rows,
typos on, 3 runs): ``ticket_texts`` 110,000-150,000 tickets/s (subject + body), ``survey_comments``
300,000-480,000 answers/s; peak memory of the whole run about 170 MB.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Sequence

import numpy as np

from cryptoscope.sources.simulate import feedback_templates as tpl

TOPICS: tuple[str, ...] = ("slow_withdrawal", "kyc_rejected", "account_frozen", "trading_loss", "card_declined",
                           "high_fees", "app_bug", "login_problem", "deposit_missing", "general_question", "praise")
LANGUAGES: tuple[str, ...] = ("en", "es", "pt", "de", "fr", "tr", "ru")
NO_TOPIC = "none"
DEFAULT_TYPO_RATE = 0.03
VAGUE_SHARE = 0.15

Compiled = tuple[tuple[str, tuple[str, ...]], ...]

_FORMATTER = string.Formatter()


def _compile(pool: Sequence[str]) -> Compiled:
    return tuple((s, tuple(f for _, f, _, _ in _FORMATTER.parse(s) if f)) for s in pool)


def _split_by_amount(pool: Sequence[str]) -> tuple[Compiled, Compiled]:
    """(templates usable when money is involved, templates that do not mention an amount)."""
    compiled = _compile(pool)
    return compiled, tuple(c for c in compiled if "amount" not in c[1])


_BODY = {(lang, topic): _split_by_amount(pool) for lang, by_topic in tpl.BODIES.items()
         for topic, pool in by_topic.items()}
_SUBJECT = {(lang, topic): _compile(pool) for lang, by_topic in tpl.SUBJECTS.items()
            for topic, pool in by_topic.items()}
_VAGUE_PROBLEM = {lang: _compile(p + tpl.VAGUE_NEUTRAL[lang]) for lang, p in tpl.VAGUE_PROBLEM.items()}
_VAGUE_NEUTRAL = {lang: _compile(p) for lang, p in tpl.VAGUE_NEUTRAL.items()}
_SARCASM = {lang: _compile(p) for lang, p in tpl.SARCASM.items()}
_SARCASM_NO_WAIT = {lang: tuple(c for c in p if "dur" not in c[1]) for lang, p in _SARCASM.items()}
_WAITING = frozenset({"slow_withdrawal", "kyc_rejected", "account_frozen", "deposit_missing", "login_problem"})
_NO_STABLECOIN = frozenset({"trading_loss", "high_fees"})  # a stop loss or a spread "on USDT" reads wrong
for _key, (_, _no_amount) in _BODY.items():  # every (language, topic) must work without money involved
    assert _no_amount, f"no template without an amount for {_key}"

_ASSETS = ("USDT", "BTC", "ETH", "SOL", "USDC", "XRP", "BNB", "DOGE", "TRX")
_ASSET_P = np.array([0.30, 0.25, 0.18, 0.07, 0.07, 0.05, 0.04, 0.02, 0.02])
_PRICE = (1.0, 60_000.0, 3_000.0, 150.0, 1.0, 0.6, 550.0, 0.15, 0.12)
_ERRORS = ("E1043", "502", "-2010", "NET_ERR_07", "429", "E-3301", "0x1f", "500", "ERR_TIMEOUT")
_THOUSANDS = {"en": ",", "es": ".", "pt": ".", "de": ".", "fr": " ", "tr": ".", "ru": " "}
_MONEY: dict[str, tuple[str, ...]] = {
    "en": ("${n}", "${n}", "{n} USD", "{r} dollars", "{r}$", "${k}", "{r} usd"),
    "es": ("{n} USD", "{r} dólares", "${n}", "{n} dólares", "{r} usd"),
    "pt": ("US$ {n}", "{r} dólares", "{n} USD", "{n} dólares"),
    "de": ("{n} USD", "{n} $", "{r} Dollar", "{n} Dollar", "{r}$"),
    "fr": ("{n} USD", "{n} $", "{r} dollars", "{n} dollars"),
    "tr": ("{n} USD", "{r} dolar", "{n} dolar", "${n}"),
    "ru": ("{n} $", "{r} USD", "${r}", "{n} долл."),
}
_UNITS: dict[str, tuple[tuple[str, ...], ...]] = {  # per unit (hours, days, weeks): alternative spellings
    "en": (("{n} hours", "{n}h", "{n} hrs"), ("{n} days",), ("{n} weeks",)),
    "es": (("{n} horas",), ("{n} días",), ("{n} semanas",)),
    "pt": (("{n} horas", "{n}h"), ("{n} dias",), ("{n} semanas",)),
    "de": (("{n} Stunden", "{n} Std."), ("{n} Tage",), ("{n} Wochen",)),
    "fr": (("{n} heures", "{n}h"), ("{n} jours",), ("{n} semaines",)),
    "tr": (("{n} saat",), ("{n} gün",), ("{n} hafta",)),
}
_RU_UNITS = (("час", "часа", "часов"), ("день", "дня", "дней"), ("неделя", "недели", "недель"))


def _ru_form(n: int, forms: tuple[str, str, str]) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def _duration(lang: str, unit: int, n: int, u: float) -> str:
    if lang == "ru":
        return f"{n} {_ru_form(n, _RU_UNITS[unit])}"
    forms = _UNITS["en" if lang == "en_nn" else lang][unit]
    return forms[int(u * len(forms))].format(n=n)


def _money(usd: float, lang: str, u: float) -> str:
    lang = "en" if lang == "en_nn" else lang
    styles = _MONEY[lang]
    style = styles[int(u * len(styles))]
    if usd >= 100 or usd == int(usd):
        value = round(usd)
        number, raw = f"{value:,}".replace(",", _THOUSANDS[lang]), str(value)
    else:
        number = raw = f"{usd:.2f}" if lang == "en" else f"{usd:.2f}".replace(".", ",")
    short = f"{usd / 1000:.1f}k".replace(".0k", "k") if usd >= 1000 else number
    return style.format(n=number, r=raw, k=short)


def _quantity(qty: float, lang: str) -> str:
    text = f"{qty:,.0f}" if qty >= 100 else f"{qty:.2f}" if qty >= 1 else f"{qty:.6f}".rstrip("0")
    if lang in ("en", "en_nn"):
        return text
    return text.replace(",", " ").replace(".", ",")


def _cap(text: str, lang: str) -> str:
    if not text:
        return text
    first = "İ" if lang == "tr" and text[0] == "i" else text[0].upper()
    return first + text[1:]


class _Slots:
    """Per-row slot values, drawn for all rows at once; formatted only when a template asks for them."""

    def __init__(self, rng: np.random.Generator, severity: np.ndarray, amounts: np.ndarray) -> None:
        n = len(severity)
        self.amount = amounts
        self.fee = np.where(amounts > 0, amounts * rng.uniform(0.004, 0.03, n) + 0.5, rng.uniform(2.0, 40.0, n))
        self.asset = rng.choice(len(_ASSETS), size=n, p=_ASSET_P)
        self.style = rng.random((n, 3))  # money style, crypto-or-fiat, duration spelling
        hours = 2.0 * np.exp(severity * np.log(360.0) + rng.normal(0.0, 0.35, n))
        hours = np.maximum(2, np.rint(hours)).astype(np.int64)
        self.unit = np.where(hours < 36, 0, np.where(hours < 24 * 14, 1, 2))
        self.count = np.where(self.unit == 0, hours,
                              np.maximum(2, np.rint(hours / np.where(self.unit == 1, 24, 168)))).astype(np.int64)
        self.ref = rng.integers(0, 2**62, size=n, dtype=np.int64)
        self.order = rng.integers(10**8, 10**10, size=n, dtype=np.int64)

    def value(self, name: str, i: int, lang: str) -> str:
        if name == "amount":
            usd = float(self.amount[i])
            asset = int(self.asset[i])
            if self.style[i, 1] < 0.35 and _PRICE[asset] != 1.0:
                return f"{_quantity(usd / _PRICE[asset], lang)} {_ASSETS[asset]}"
            if self.style[i, 1] < 0.5 and _PRICE[asset] == 1.0:
                return f"{round(usd):,} {_ASSETS[asset]}".replace(",", _THOUSANDS.get(lang, ","))
            return _money(usd, lang, float(self.style[i, 0]))
        if name == "fee":
            return _money(float(self.fee[i]), lang, float(self.style[i, 0]))
        if name == "asset":
            return _ASSETS[int(self.asset[i])]
        if name == "dur":
            return _duration(lang, int(self.unit[i]), int(self.count[i]), float(self.style[i, 2]))
        ref = int(self.ref[i])
        if name == "tx":
            h = f"{ref:016x}"
            kind = ref & 3
            return (f"TX {h[:4]}…{h[-4:]}" if kind == 0 else f"txid 0x{h}…" if kind == 1
                    else f"tx hash {h}{h[::-1]}" if kind == 2 else f"ref {h[:10].upper()}")
        if name == "order":
            o = int(self.order[i])
            return f"#{o}" if o & 1 else str(o)
        if name == "last4":
            return f"{ref % 10_000:04d}"
        if name == "err":
            return _ERRORS[ref % len(_ERRORS)]
        raise KeyError(name)

    def fill(self, template: tuple[str, tuple[str, ...]], i: int, lang: str) -> str:
        text, needs = template
        if not needs:
            return text
        return text.format_map({k: self.value(k, i, lang) for k in needs})


def _codes(values: np.ndarray, vocab: Sequence[str], what: str) -> np.ndarray:
    """Index of each value in ``vocab``; unknown values raise ``ValueError``."""
    uniq, inverse = np.unique(np.asarray(values).astype(str), return_inverse=True)
    lookup = {v: k for k, v in enumerate(vocab)}
    unknown = [str(u) for u in uniq if u not in lookup]
    if unknown:
        raise ValueError(f"unknown {what}: {unknown[:5]} (expected one of {list(vocab)})")
    return np.array([lookup[str(u)] for u in uniq], dtype=np.int64)[inverse.reshape(-1)]


def _groups(topic_code: np.ndarray, lang_code: np.ndarray) -> Iterator[tuple[int, int, list[int]]]:
    """(topic index, language index, row indices) for each (topic, language) present."""
    key = topic_code * len(LANGUAGES) + lang_code
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    cuts = np.flatnonzero(np.diff(sorted_key)) + 1
    for rows in np.split(order, cuts):
        if rows.size:
            k = int(key[rows[0]])
            yield k // len(LANGUAGES), k % len(LANGUAGES), rows.tolist()


_ACCENTS = str.maketrans({
    **dict(zip("áàâäãåéèêëíìîïóòôöõúùûüñçÁÀÂÄÃÉÈÊËÍÎÏÓÔÖÕÚÙÛÜÑÇ", "aaaaaaeeeeiiiiooooouuuuncAAAAAEEEEIIIOOOOUUUUNC",
             strict=True)),
    **dict(zip("ışğİŞĞёЁ", "isgISGеЕ", strict=True)), "ß": "ss", "œ": "oe",
})
_STRIP_LANGS = {"es": 0.10, "pt": 0.12, "fr": 0.08, "de": 0.05, "tr": 0.15, "ru": 0.40}
_ANGRY_PUNCT = ("!", "!!", "!!!", "!!!!")


def _shout(text: str, tier: int, u: float) -> str:
    """Exclamation marks instead of full stops; at the top tier question marks multiply too."""
    text = text.replace(". ", "! ")
    end = _ANGRY_PUNCT[min(3, int(u * 2) + 2 * (tier - 2))]
    if text.endswith("."):
        text = text[:-1] + end
    elif text.endswith("?") and tier == 3:
        text += "??"
    elif not text.endswith(("!", "?")):
        text += end
    return text


def ticket_texts(rng: np.random.Generator, topics: np.ndarray, languages: np.ndarray, severity: np.ndarray,
                 amounts_usd: np.ndarray, *, typo_rate: float = DEFAULT_TYPO_RATE) -> tuple[list[str], list[str]]:
    """Return (subjects, bodies) for tickets; topic i is what user i really experienced, severity in [0, 1]
    (how bad: e.g. a withdrawal stuck 2 days is worse than 2 hours), amounts_usd the money involved (may be 0)."""
    n = len(topics)
    if not len(languages) == len(severity) == len(amounts_usd) == n:
        raise ValueError("topics, languages, severity and amounts_usd must have the same length")
    if n == 0:
        return [], []
    topic_code = _codes(topics, TOPICS, "topic")
    lang_code = _codes(languages, LANGUAGES, "language")
    sev = np.clip(np.nan_to_num(np.asarray(severity, dtype=np.float64)), 0.0, 1.0)
    amounts = np.maximum(np.nan_to_num(np.asarray(amounts_usd, dtype=np.float64)), 0.0)

    anger = np.clip(0.05 + 0.85 * sev + rng.normal(0.0, 0.15, n), 0.0, 1.0)
    anger[topic_code == TOPICS.index("general_question")] *= 0.5
    anger[topic_code == TOPICS.index("praise")] = 0.0
    tiers = np.digitize(anger, (0.35, 0.6, 0.8))
    vague = rng.random(n) < VAGUE_SHARE
    uniform = rng.random((n, 12))
    slots = _Slots(rng, sev, amounts)
    stable = np.isin(slots.asset, [k for k, p in enumerate(_PRICE) if p == 1.0])
    swap = stable & np.isin(topic_code, [TOPICS.index(t) for t in _NO_STABLECOIN])
    slots.asset[swap] = rng.choice([1, 2, 3, 6], size=int(swap.sum()), p=[0.45, 0.35, 0.1, 0.1])

    subjects: list[str] = [""] * n
    bodies: list[str] = [""] * n
    for t, lg, rows in _groups(topic_code, lang_code):
        topic, lang = TOPICS[t], LANGUAGES[lg]
        friendly = topic in ("praise", "general_question")
        vague_pool = _VAGUE_NEUTRAL[lang] if friendly else _VAGUE_PROBLEM[lang]
        vague_subjects = tpl.SUBJECTS[lang]["general_question"] if friendly else tpl.VAGUE_SUBJECTS[lang]
        strip_p = _STRIP_LANGS.get(lang, 0.0)
        sarcasm = _SARCASM if topic in _WAITING else _SARCASM_NO_WAIT
        for i, u, tier, is_vague in zip(rows, uniform[rows].tolist(), tiers[rows].tolist(),
                                        vague[rows].tolist(), strict=True):
            tl = "en_nn" if lang == "en" and u[4] < 0.2 else lang
            if is_vague:
                core = slots.fill(vague_pool[int(u[0] * len(vague_pool))], i, tl)
            else:
                with_amount, without = _BODY[tl, topic]
                pool = with_amount if amounts[i] >= 0.5 else without  # cents are "no money involved"
                core = slots.fill(pool[int(u[0] * len(pool))], i, tl)
            shout = 0.4 if tier == 2 else 0.85
            if tier >= 2 and u[8] < shout:
                core = _shout(core, tier, u[8] / shout)
            if (tier == 3 and u[8] < 0.25) or (tier == 2 and u[8] < 0.05):
                core = core.upper()
            if lang != "en" and u[4] < 0.06:  # code-switching: an English fragment in another language
                core += " " + tpl.CODE_SWITCH[int(u[4] / 0.06 * len(tpl.CODE_SWITCH))]

            if u[7] < 0.14 + 0.06 * (tier == 3):  # one-liner: just the message, typed quickly
                body = core[0].lower() + core[1:] if u[7] < 0.07 and not core.isupper() else core
                body = body[:-1] if body.endswith(".") else body
            else:
                opener_tier = 0 if tier >= 2 and u[2] < 0.15 else tier  # polite words, furious content
                openers = tpl.OPENERS[tl][opener_tier]
                parts = [openers[int(u[2] * len(openers)) if opener_tier == tier else 0], core]
                if tier >= 1 and topic != "praise" and u[5] < 0.05 + 0.05 * tier:
                    parts.append(slots.fill(sarcasm[tl][int(u[5] * 97) % len(sarcasm[tl])], i, tl))
                if (tier == 3 and u[6] < 0.6) or (tier == 2 and u[6] < 0.12):
                    parts.append(tpl.THREATS[tl][int(u[6] * 89) % len(tpl.THREATS[tl])])
                closers = tpl.CLOSERS[tl][max(0, tier - (u[3] < 0.2))]
                closers = closers[:2] if topic == "praise" else closers
                parts.append(closers[int(u[3] * len(closers))])
                sep = "\n\n" if u[7] > 0.72 else "\n" if u[7] > 0.62 else " "
                if sep == " " and parts[0].endswith(",") and lang != "de" and core[1:2].islower():
                    parts[1] = core[0].lower() + core[1:]  # "Hola, la transferencia..."
                body = sep.join(p for p in parts if p)
                if tier <= 1 and u[9] < 0.25:
                    names = tpl.SIGNATURES[tl]
                    body += "\n" + names[int(u[9] * 4 * len(names))]
            if u[10] < strip_p:
                body = body.translate(_ACCENTS)
            elif u[10] > 0.96 and tier < 3:
                body = body.lower()
            bodies[i] = body

            if is_vague or (u[1] < 0.08 and not friendly):
                subject = vague_subjects[int(u[1] * 7919) % len(vague_subjects)]
            else:
                pool = _SUBJECT[lang, topic]
                subject = slots.fill(pool[int(u[1] * len(pool))], i, lang)
            if tier == 3 and u[11] < 0.35:
                subject = subject.upper() + "!!!"
            elif tier >= 2 and u[11] < 0.5:
                subject = f"{tpl.URGENT[lang]}: {subject}"
            elif u[11] > 0.93:
                subject = "Re: " + subject
            subjects[i] = subject

    if typo_rate > 0:
        subjects = apply_typos(rng, subjects, typo_rate)
        bodies = apply_typos(rng, bodies, typo_rate)
    return subjects, bodies


_INCIDENTS = frozenset(tpl.S_NEG_TOPIC["en"])


def _p_no_comment(scores: np.ndarray) -> np.ndarray:
    """Detractors write more often than passives; overall about 40% of answers carry no comment."""
    return np.where(scores <= 6, 0.35, np.where(scores <= 8, 0.48, 0.42))


def survey_comments(rng: np.random.Generator, scores: np.ndarray, topics: np.ndarray, languages: np.ndarray,
                    *, typo_rate: float = DEFAULT_TYPO_RATE) -> list[str | None]:
    """Free-text NPS comments: scores are 0..10; about 40% of answers have no comment (None); the comment's
    tone follows the score and, for detractors, usually names the topic the user experienced (topics may be
    'none' for users without an incident: then comment on general things: fees, app, coins listed, speed)."""
    n = len(scores)
    if not len(topics) == len(languages) == n:
        raise ValueError("scores, topics and languages must have the same length")
    if n == 0:
        return []
    score = np.clip(np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=5.0), 0, 10).astype(np.int64)
    topic_code = _codes(topics, (*TOPICS, NO_TOPIC), "topic")
    lang_code = _codes(languages, LANGUAGES, "language")
    silent = rng.random(n) < _p_no_comment(score)
    uniform = rng.random((n, 8))
    days = rng.integers(2, 15, size=n)

    comments: list[str | None] = [None] * n
    for t, lg, rows in _groups(topic_code, lang_code):
        topic = (*TOPICS, NO_TOPIC)[t]
        lang = LANGUAGES[lg]
        incident = topic in _INCIDENTS
        pos, pos_short, neutral = tpl.S_POS[lang], tpl.S_POS_SHORT[lang], tpl.S_NEUTRAL[lang]
        neg_general, but = tpl.S_NEG_GENERAL[lang], tpl.S_BUT[lang]
        neg_topic = tpl.S_NEG_TOPIC[lang][topic] if incident else neg_general
        sarcasm = tpl.S_SARCASM[lang] if topic in _WAITING else tuple(p for p in tpl.S_SARCASM[lang] if "{" not in p)
        for i, u, s, quiet in zip(rows, uniform[rows].tolist(), score[rows].tolist(), silent[rows].tolist(),
                                  strict=True):
            if quiet:
                continue
            if s <= 6:
                if u[1] < 0.75:
                    core = neg_topic[int(u[1] / 0.75 * len(neg_topic))]
                elif u[1] < 0.83:
                    core = sarcasm[int(u[2] * len(sarcasm))]
                else:
                    core = neg_general[int(u[2] * len(neg_general))]
                parts = [core]
                if s <= 3 and u[3] < 0.4:
                    parts.insert(0, tpl.S_ANGRY_OPEN[lang][int(u[3] / 0.4 * len(tpl.S_ANGRY_OPEN[lang]))])
                if u[4] < (0.4 if s <= 3 else 0.1):
                    parts.append(tpl.S_LEAVING[lang][int(u[5] * len(tpl.S_LEAVING[lang]))])
                end = ("!!!" if u[5] < 0.3 else "!") if s <= 3 else ("." if u[5] < 0.6 else "")
            elif s <= 8:
                if u[1] < 0.55:
                    complaint = neg_topic if incident and u[2] < 0.5 else neg_general
                    core = (pos_short[int(u[2] * len(pos_short))] + but
                            + complaint[int(u[3] * len(complaint))])
                elif u[1] < 0.8:
                    core = neutral[int(u[2] * len(neutral))]
                else:
                    core = pos_short[int(u[2] * len(pos_short))]
                parts, end = [core], "." if u[5] < 0.6 else ""
            else:
                if u[1] < 0.88:
                    parts = [pos[int(u[2] * len(pos))]]
                    if u[3] < 0.2:
                        parts.append(pos[int(u[4] * len(pos))])
                else:
                    parts = [pos_short[int(u[2] * len(pos_short))] + but + neg_general[int(u[3] * len(neg_general))]]
                end = "!" if u[5] < 0.45 else "." if u[5] < 0.75 else ""
            text = ". ".join(_cap(p, lang) if u[6] < 0.75 else p for p in dict.fromkeys(parts)) + end
            if "{" in text:
                text = text.format(dur=_duration(lang, 1, int(days[i]), 0.0))
            if s <= 1 and u[7] < 0.2:
                text = text.upper()
            elif lang != "en" and s <= 6 and u[7] > 0.95:
                text += " " + tpl.CODE_SWITCH[int((u[7] - 0.95) * 20 * len(tpl.CODE_SWITCH))]
            comments[i] = text

    if typo_rate > 0:
        present = [k for k, c in enumerate(comments) if c is not None]
        typed = apply_typos(rng, [comments[k] or "" for k in present], typo_rate)
        for k, c in zip(present, typed, strict=True):
            comments[k] = c
    return comments


# ------------------------------------------------------------------------------------------------ typos
_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")
_NEIGHBOURS = {row[k]: row[max(0, k - 1):k] + row[k + 1:k + 2] for row in _KEY_ROWS for k in range(len(row))}
_PUNCT = string.punctuation + "¿¡«»…“”‘’ \n"
_TYPO_KINDS = np.array([0.30, 0.25, 0.15, 0.15, 0.15])  # swap, drop, double, accent, neighbour key


def _typo(token: str, kind: int, u: float) -> str:
    """One typo in the letters of ``token``; tokens that are not a plain word are left alone."""
    word = token.strip(_PUNCT)
    if len(word) < 3 or not word.isalpha():
        return token
    start = token.find(word)
    if kind == 3:
        stripped = word.translate(_ACCENTS)
        if stripped != word:
            return token[:start] + stripped + token[start + len(word):]
        kind = 4
    if kind == 0:
        j = int(u * (len(word) - 1)) if word[0].islower() else 1 + int(u * (len(word) - 2))
        new = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    elif kind == 1:
        j = 1 + int(u * (len(word) - 1))
        new = word[:j] + word[j + 1:]
    elif kind == 2:
        j = int(u * len(word))
        new = word[:j + 1] + word[j:]
    else:
        j = int(u * len(word))
        near = _NEIGHBOURS.get(word[j].lower())
        if not near:
            new = word[:j + 1] + word[j:]
        else:
            c = near[int(u * 1000) % len(near)]
            new = word[:j] + (c.upper() if word[j].isupper() else c) + word[j + 1:]
    return token[:start] + new + token[start + len(word):]


def _hit_positions(rng: np.random.Generator, total: int, rate: float) -> np.ndarray:
    """Positions in ``range(total)`` each hit independently with probability ``rate`` (geometric gaps)."""
    if rate >= 1.0:
        return np.arange(total)
    found: list[np.ndarray] = []
    last = -1
    while True:
        m = int(max(total - last, 0) * rate + 6 * np.sqrt(max(total - last, 1) * rate) + 16)
        pos = last + np.cumsum(rng.geometric(rate, size=m))
        found.append(pos[pos < total])
        if pos[-1] >= total:
            return np.concatenate(found)
        last = int(pos[-1])


def apply_typos(rng: np.random.Generator, texts: list[str], rate: float) -> list[str]:
    """Realistic typos (swapped/dropped/doubled letters, missing accents) at roughly `rate` per word."""
    out = list(texts)
    if rate <= 0 or not out:
        return out
    counts = np.fromiter((t.count(" ") + 1 for t in out), dtype=np.int64, count=len(out))
    ends = np.cumsum(counts)
    hits = _hit_positions(rng, int(ends[-1]), float(rate))
    if hits.size == 0:
        return out
    text_of = np.searchsorted(ends, hits, side="right")
    word_of = hits - (ends - counts)[text_of]
    kinds = rng.choice(len(_TYPO_KINDS), size=hits.size, p=_TYPO_KINDS)
    us = rng.random(hits.size)
    current, words = -1, [""]
    for t, w, k, u in zip(text_of.tolist(), word_of.tolist(), kinds.tolist(), us.tolist(), strict=True):
        if t != current:
            if current >= 0:
                out[current] = " ".join(words)
            current, words = t, out[t].split(" ")
        words[w] = _typo(words[w], k, u)
    out[current] = " ".join(words)
    return out
