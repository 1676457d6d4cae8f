"""cryptoscope: one data platform for an exchange's risk, chain, personalization and feedback work."""

__version__ = "0.1.0"
