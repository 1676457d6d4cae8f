"""Abnormal users and rings as a product line: entity graph, detectors, case queue, report.

The batch stage builds the entity graph as of the end of the lake, scores every user with the detectors
(taught by the analysts' closed cases), files new cases in the case queue beside the lake
(``LAKE/_abnormal``) and writes ``cases.html`` to the reports folder.
"""

from __future__ import annotations

import shutil

from cryptoscope.anomaly.demo import run_abnormal_demo
from cryptoscope.productline import RunContext, StageResult


class AbnormalLine:
    """See the module doc; no parameters: the detection settings are ``DetectionConfig``'s defaults."""

    name = "abnormal"
    purpose = "Abnormal users and rings from behaviour and shared devices, IPs, cards and addresses, into cases."
    reads = ("accounts", "chain_transfers", "kyc_submissions", "labels", "payments", "sessions", "trades")
    writes = ("labels",)
    after = ("kyc", "payment", "withdrawal", "credit")
    command = "cryptoscope anomaly run"

    def run(self, ctx: RunContext) -> StageResult:
        ctx.progress("abnormal users: graph, detectors, cases")
        result = run_abnormal_demo(ctx.lake.root)  # graph, case queue and report live in LAKE/_abnormal
        ctx.reports.mkdir(parents=True, exist_ok=True)
        report = ctx.reports / "cases.html"
        shutil.copyfile(result.report, report)  # self-contained: its pictures are inline
        text = result.text().removeprefix("abnormal users: ").replace(str(result.report), str(report))
        return StageResult(text, report)
