"""Risk scoring: fraud models on lake data, and the outside benchmarks that keep them honest.

>>> from cryptoscope.risk import run_fdh
>>> import datetime
>>> result = run_fdh("transactions.parquet", datetime.date(2018, 7, 25))  # doctest: +SKIP
>>> result.model.average_precision                                      # doctest: +SKIP
"""

from cryptoscope.risk.fdh import BOOK_FIGURES, FdhResult, Periods, run_fdh, run_protocol
from cryptoscope.risk.fdh_data import fdh_lake
from cryptoscope.risk.metrics import CardPrecision, Scores, card_precision_at_k, fraud_scores

__all__ = ["BOOK_FIGURES", "CardPrecision", "FdhResult", "Periods", "Scores", "card_precision_at_k", "fdh_lake",
           "fraud_scores", "run_fdh", "run_protocol"]
