"""Risk scoring: one product per decision (KYC, payment, withdrawal, credit, deposit), trained and scored
on lake data. The outside benchmark that keeps the card model honest is `cryptoscope.benchmarks.fdh`."""
