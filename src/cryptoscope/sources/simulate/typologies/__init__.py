"""Fraud and abuse typologies: each writes its events, its ground truth and the labels the exchange learns.

Every typology is described in docs/simulator.md with its signals and which of them are weak.
"""
