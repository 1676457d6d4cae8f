"""Abnormal users: PyOD detectors and their ensemble (standardised mean, refined by a forest), reasons,
alerts grouped into cases.

>>> from cryptoscope.anomaly import run_abnormal_demo
>>> print(run_abnormal_demo(Path("demo-lake")).text())     # doctest: +SKIP
"""

from cryptoscope.anomaly.demo import AbnormalDemo, run_abnormal_demo
from cryptoscope.anomaly.detectors import DETECTORS, ENSEMBLE, RankEnsemble
from cryptoscope.anomaly.pipeline import DetectionConfig, RunResult, detect
from cryptoscope.anomaly.table import score_frame, score_table

__all__ = ["DETECTORS", "ENSEMBLE", "AbnormalDemo", "DetectionConfig", "RankEnsemble", "RunResult", "detect",
           "run_abnormal_demo", "score_frame", "score_table"]
