"""Ticket and survey text: deterministic, in the right language, tone that follows severity and score."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cryptoscope.sources.simulate import feedback_templates as tpl
from cryptoscope.sources.simulate.feedback_text import (
    _ACCENTS,
    LANGUAGES,
    TOPICS,
    _duration,
    apply_typos,
    survey_comments,
    ticket_texts,
)

# function words (accents stripped) that almost every sentence of the language contains
MARKERS = {
    "en": "the my i is to and it you me for of in not can please why how what your now",
    "es": "el la mi que no por en de y es los las una un me se con para",
    "pt": "o a meu minha que nao de do da e um uma para por com no na voces",
    "de": "ich die der das mein meine nicht und ist ein eine mit wie warum mir zu auf es bitte",
    "fr": "je le la mon ma pas de et est un une les des vous pour ne mes sur",
    "tr": "bir ve bu icin ama cok hala ne mi neden nasil degil var yok her ile sonra hep sadece kadar ben hicbir "
          "kimse de da yine gibi bana benden sizde",
}
MARKER_SETS = {lang: set(words.split()) for lang, words in MARKERS.items()}
ENGLISH_ONLY = {"the", "my", "is", "and", "you", "your", "with", "what", "why", "this", "that", "have"}
POSITIVE = {
    "en": ("great", "love", "good", "excellent", "easy", "best", "perfect", "thank", "nice", "super", "fast"),
    "es": ("buen", "encanta", "mejor", "perfect", "excelente", "fácil", "gracias", "rápido"),
}
THREAT_WORDS = ("regulator", "lawyer", "police", "close my account", "another exchange", "scam")
TICKERS = {"USDT", "USDC", "DOGE", "NET_ERR_07", "ERR_TIMEOUT", "KYC", "URGENT"}


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower().translate(_ACCENTS)))


def in_language(text: str, lang: str) -> bool:
    if lang == "ru":
        letters = [c for c in text.lower() if c.isalpha()]
        return sum("а" <= c <= "я" or c == "ё" for c in letters) > 0.5 * len(letters)
    return bool(words(text) & MARKER_SETS[lang])


def is_angry(text: str) -> bool:
    shouted = [w for w in re.findall(r"[^\W\d_]{4,}", text) if w.isupper() and w not in TICKERS]
    return "!!" in text or "??" in text or bool(shouted) or any(t in text.lower() for t in THREAT_WORDS)


def tickets(seed: int, n: int, topic: str, lang: str, severity: float | np.ndarray, amount: float = 0.0,
            **kwargs: float) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    sev = np.full(n, severity) if np.isscalar(severity) else np.asarray(severity)
    return ticket_texts(rng, np.array([topic] * n, dtype=object), np.array([lang] * n), sev, np.full(n, amount),
                        **kwargs)


def mixed_rows(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    topics = rng.choice(np.array(TOPICS, dtype=object), n)
    langs = rng.choice(np.array(LANGUAGES, dtype=object), n)
    amounts = np.where(rng.random(n) < 0.6, rng.lognormal(6.0, 1.5, n), 0.0)
    return topics, langs, rng.random(n), amounts


def test_ticket_texts_are_deterministic_for_a_seed() -> None:
    rows = mixed_rows(3_000)
    first = ticket_texts(np.random.default_rng(42), *rows)
    assert first == ticket_texts(np.random.default_rng(42), *rows)
    assert first != ticket_texts(np.random.default_rng(43), *rows)
    assert len(first[0]) == len(first[1]) == 3_000


def test_survey_comments_and_typos_are_deterministic_for_a_seed() -> None:
    topics, langs, _, _ = mixed_rows(2_000)
    scores = np.random.default_rng(1).integers(0, 11, 2_000)
    assert survey_comments(np.random.default_rng(7), scores, topics, langs) == survey_comments(
        np.random.default_rng(7), scores, topics, langs)
    texts = ["the quick brown fox jumps over the lazy dog"] * 500
    assert apply_typos(np.random.default_rng(3), texts, 0.1) == apply_typos(np.random.default_rng(3), texts, 0.1)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_topic_writes_non_empty_text_in_its_language(lang: str) -> None:
    for k, topic in enumerate(TOPICS):
        amounts = np.where(np.arange(200) % 2 == 0, 750.0, 0.0)
        subjects, bodies = ticket_texts(np.random.default_rng(k), np.array([topic] * 200), np.array([lang] * 200),
                                        np.linspace(0, 1, 200), amounts)
        assert all(s.strip() for s in subjects) and all(b.strip() for b in bodies), (lang, topic)
        assert not any("{" in b or "}" in b for b in bodies + subjects), (lang, topic)
        share = np.mean([in_language(b, lang) for b in bodies])
        assert share >= 0.85, (lang, topic, share)


@pytest.mark.parametrize("lang", [lg for lg in LANGUAGES if lg != "en"])
def test_non_english_text_is_not_english_with_a_flag(lang: str) -> None:
    topics = mixed_rows(2_000)[0]
    _, bodies = ticket_texts(np.random.default_rng(5), topics, np.array([lang] * 2_000), np.full(2_000, 0.5),
                             np.full(2_000, 100.0))
    english = np.mean([len(words(b) & ENGLISH_ONLY) >= 2 for b in bodies])
    assert english < 0.05, english


def test_severity_raises_the_share_of_angry_markers() -> None:
    topics, langs, _, amounts = mixed_rows(2_000, seed=3)
    topics = np.where(topics == "praise", "slow_withdrawal", topics)
    calm = ticket_texts(np.random.default_rng(1), topics, langs, np.full(2_000, 0.05), amounts)[1]
    furious = ticket_texts(np.random.default_rng(1), topics, langs, np.full(2_000, 0.95), amounts)[1]
    calm_share = np.mean([is_angry(b) for b in calm])
    furious_share = np.mean([is_angry(b) for b in furious])
    assert calm_share < 0.1 and furious_share > 0.5 and furious_share - calm_share > 0.4, (calm_share,
                                                                                           furious_share)
    en_furious = tickets(2, 2_000, "account_frozen", "en", 0.95)[1]
    assert np.mean([any(t in b.lower() for t in THREAT_WORDS) for b in en_furious]) > 0.2


def test_praise_stays_friendly_whatever_the_severity() -> None:
    _, bodies = tickets(4, 1_000, "praise", "en", 1.0, typo_rate=0.0)
    assert np.mean([is_angry(b) and "!" not in b for b in bodies]) < 0.02
    assert not any(t in b.lower() for b in bodies for t in THREAT_WORDS)


def test_durations_grow_with_severity() -> None:
    def mean_hours(bodies: list[str]) -> float:
        unit = {"hours": 1, "h": 1, "hrs": 1, "days": 24, "weeks": 168}
        found = [int(n) * unit[u] for b in bodies for n, u in re.findall(r"\b(\d+) ?(hours|hrs|h|days|weeks)\b", b)]
        assert len(found) > 100
        return float(np.mean(found))

    short = mean_hours(tickets(1, 2_000, "slow_withdrawal", "en", 0.1, typo_rate=0.0)[1])
    long = mean_hours(tickets(1, 2_000, "slow_withdrawal", "en", 0.9, typo_rate=0.0)[1])
    assert long > 5 * short


def test_amounts_appear_only_when_money_is_involved() -> None:
    _, none = tickets(6, 1_000, "deposit_missing", "en", 0.5, amount=0.0, typo_rate=0.0)
    assert not any(re.search(r"\$|\bUSD\b|dollars|1,250", b) for b in none)
    _, some = tickets(6, 1_000, "deposit_missing", "en", 0.5, amount=1250.0, typo_rate=0.0)
    shares = [np.mean([p in b for b in some]) for p in ("$1,250", "1250 dollars", "1,250 USDT", "BTC")]
    assert all(s > 0 for s in shares), shares
    _, german = tickets(6, 1_000, "deposit_missing", "de", 0.5, amount=1250.0, typo_rate=0.0)
    assert any("1.250 USD" in b for b in german) and not any("1,250 USD" in b for b in german)


def test_about_fifteen_percent_of_tickets_are_vague() -> None:
    vague = [s.lower().rstrip(".?") for s in tpl.VAGUE_PROBLEM["en"] + tpl.VAGUE_NEUTRAL["en"]]
    _, bodies = tickets(8, 4_000, "kyc_rejected", "en", 0.0, typo_rate=0.0)
    share = np.mean([any(v in b.lower() for v in vague) for b in bodies])
    assert 0.11 < share < 0.19, share


def test_topics_share_vocabulary_and_styles_vary() -> None:
    withdrawal = tickets(9, 1_000, "slow_withdrawal", "en", 0.5, amount=300.0)[1]
    deposit = tickets(9, 1_000, "deposit_missing", "en", 0.5, amount=300.0)[1]
    assert np.mean(["transfer" in b.lower() for b in withdrawal]) > 0.05
    assert np.mean(["transfer" in b.lower() for b in deposit]) > 0.05
    lengths = [len(b.split()) for b in withdrawal]
    assert min(lengths) <= 6 and max(lengths) >= 40
    assert len(set(withdrawal)) > 900
    nn_markers = ("kindly", "sir", "i am ", "since ")
    assert 0.05 < np.mean([any(m in b.lower() for m in nn_markers) for b in withdrawal]) < 0.4
    spanish = tickets(9, 2_000, "slow_withdrawal", "es", 0.5)[1]
    switched = np.mean([any(f in b for f in tpl.CODE_SWITCH) for b in spanish])
    assert 0.01 < switched < 0.15, switched


def test_survey_comment_share_and_tone() -> None:
    n = 6_000
    rng = np.random.default_rng(11)
    scores = rng.integers(0, 11, n)
    comments = survey_comments(rng, scores, np.array(["none"] * n), np.array(["en"] * n))
    assert abs(np.mean([c is None for c in comments]) - 0.40) < 0.08
    assert all(c is None or c.strip() for c in comments)
    positive = np.array([c is not None and any(w in c.lower() for w in POSITIVE["en"]) for c in comments])
    answered = np.array([c is not None for c in comments])
    promoters = positive[(scores >= 9) & answered].mean()
    detractors = positive[(scores <= 6) & answered].mean()
    assert promoters > 0.7 and detractors < 0.15, (promoters, detractors)

    es = survey_comments(np.random.default_rng(12), scores, np.array(["none"] * n), np.array(["es"] * n))
    es_pos = np.array([c is not None and any(w in c.lower() for w in POSITIVE["es"]) for c in es])
    es_answered = np.array([c is not None for c in es])
    assert es_pos[(scores >= 9) & es_answered].mean() > 0.6 > 0.15 > es_pos[(scores <= 6) & es_answered].mean()


def test_detractors_usually_name_the_topic_they_experienced() -> None:
    n = 3_000
    scores = np.full(n, 2)
    with_topic = survey_comments(np.random.default_rng(13), scores, np.array(["slow_withdrawal"] * n),
                                 np.array(["en"] * n), typo_rate=0.0)
    without = survey_comments(np.random.default_rng(13), scores, np.array(["none"] * n), np.array(["en"] * n),
                              typo_rate=0.0)
    named = np.mean([c is not None and "withdraw" in c.lower() for c in with_topic if c is not None])
    general = np.mean([c is not None and "withdraw" in c.lower() for c in without if c is not None])
    assert named > 0.5 and general < 0.2, (named, general)


def test_typos_change_some_words_but_not_most() -> None:
    _, bodies = ticket_texts(np.random.default_rng(14), *mixed_rows(3_000, seed=14), typo_rate=0.0)
    typed = apply_typos(np.random.default_rng(15), bodies, 0.03)
    before = [w for b in bodies for w in b.split(" ")]
    after = [w for b in typed for w in b.split(" ")]
    assert len(before) == len(after)
    changed = np.mean([x != y for x, y in zip(before, after, strict=True)])
    assert 0.005 < changed < 0.05, changed
    assert apply_typos(np.random.default_rng(15), bodies, 0.0) == bodies
    accents = ["Mañana depositaré más dinero en la aplicación también"] * 400
    stripped = apply_typos(np.random.default_rng(16), accents, 0.5)
    assert any("manana" in s.lower() or "tambien" in s.lower() for s in stripped)


def test_russian_durations_agree_with_the_number() -> None:
    assert [_duration("ru", 1, k, 0.0) for k in (2, 5, 21, 22)] == ["2 дня", "5 дней", "21 день", "22 дня"]
    assert _duration("de", 2, 3, 0.0) == "3 Wochen"


def test_bad_input_is_rejected_and_empty_input_is_fine() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="topic"):
        ticket_texts(rng, np.array(["moon"]), np.array(["en"]), np.array([0.5]), np.array([0.0]))
    with pytest.raises(ValueError, match="language"):
        survey_comments(rng, np.array([5]), np.array(["none"]), np.array(["xx"]))
    with pytest.raises(ValueError, match="length"):
        ticket_texts(rng, np.array(["praise"]), np.array(["en", "es"]), np.array([0.5]), np.array([0.0]))
    assert ticket_texts(rng, np.array([]), np.array([]), np.array([]), np.array([])) == ([], [])
    assert survey_comments(rng, np.array([]), np.array([]), np.array([])) == []
