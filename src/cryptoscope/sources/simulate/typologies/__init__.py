"""Fraud and abuse typologies: each writes its events, its ground truth and the labels the exchange learns.

Every typology is described in docs/simulator.md with its signals and which of them are weak.
"""

#: each typology's share of the users eligible for it, at ``fraud_scale`` 1 (written to ``simulation_runs``)
PREVALENCE: dict[str, float] = {
    "synthetic_identity": 0.01,  # of new accounts
    "account_takeover": 0.003,
    "card_fraud": 0.0015,  # of new accounts, besides half of the synthetic identities
    "friendly_fraud": 0.002,
    "money_mule": 0.003,
    "multi_accounting": 0.006,  # of new accounts
    "wash_trading": 0.003,  # of traders
    "spoofing": 0.002,  # of traders
    "illicit_deposit": 0.004,
    "illicit_withdrawal": 0.002,
}
