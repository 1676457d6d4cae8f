"""Abnormal users: PyOD detectors and their ensemble (standardised mean, refined by a forest), reasons,
alerts grouped into cases.

>>> from cryptoscope.anomaly import detect_into_cases
>>> print(detect_into_cases(Path("demo-lake")).text())     # doctest: +SKIP
"""

from cryptoscope.anomaly.detectors import DETECTORS, ENSEMBLE, RankEnsemble
from cryptoscope.anomaly.line import AbnormalLine, AbnormalRun, detect_into_cases
from cryptoscope.anomaly.pipeline import DetectionConfig, RunResult, detect
from cryptoscope.anomaly.table import score_frame, score_table

__all__ = ["DETECTORS", "ENSEMBLE", "AbnormalLine", "AbnormalRun", "DetectionConfig", "RankEnsemble", "RunResult",
           "detect", "detect_into_cases", "score_frame", "score_table"]
