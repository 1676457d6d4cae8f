"""Exchange surveillance: wash trading, spoofing and layering, pump-and-dump on the order book.

The detectors are Ibis expressions (`batch`), so one definition runs on DuckDB and on Spark; the
same rules run incrementally, event by event, in `stream`, and give the same alerts.

>>> from cryptoscope.surveillance import run_surveillance
>>> result = run_surveillance("demo-lake")                 # doctest: +SKIP
>>> result.alerts.num_rows                                  # doctest: +SKIP
"""

from cryptoscope.surveillance.batch import detect
from cryptoscope.surveillance.params import TYPOLOGIES, Params
from cryptoscope.surveillance.pipeline import SurveillanceResult, run_surveillance

__all__ = ["TYPOLOGIES", "Params", "SurveillanceResult", "detect", "run_surveillance"]
