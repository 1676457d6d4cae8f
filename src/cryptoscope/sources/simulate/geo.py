"""Countries the simulated exchange serves: time zone, currency, language, weight."""

from __future__ import annotations

import numpy as np

# code, UTC offset (hours), currency, USD per unit, language, share of users
COUNTRIES: tuple[tuple[str, int, str, float, str, float], ...] = (
    ("US", -5, "USD", 1.0, "en", 0.12), ("GB", 0, "GBP", 1.27, "en", 0.06), ("DE", 1, "EUR", 1.08, "de", 0.06),
    ("FR", 1, "EUR", 1.08, "fr", 0.05), ("ES", 1, "EUR", 1.08, "es", 0.04), ("IT", 1, "EUR", 1.08, "en", 0.03),
    ("NL", 1, "EUR", 1.08, "en", 0.02), ("PL", 1, "PLN", 0.25, "en", 0.02), ("TR", 3, "TRY", 0.031, "tr", 0.07),
    ("BR", -3, "BRL", 0.2, "pt", 0.07), ("AR", -3, "ARS", 0.0011, "es", 0.03), ("MX", -6, "MXN", 0.058, "es", 0.04),
    ("NG", 1, "NGN", 0.00066, "en", 0.04), ("IN", 5, "INR", 0.012, "en", 0.07), ("VN", 7, "VND", 0.00004, "en", 0.05),
    ("ID", 7, "IDR", 0.000063, "en", 0.04), ("PH", 8, "PHP", 0.018, "en", 0.03), ("JP", 9, "JPY", 0.0067, "en", 0.02),
    ("KR", 9, "KRW", 0.00075, "en", 0.03), ("AU", 10, "AUD", 0.66, "en", 0.02), ("CA", -5, "CAD", 0.74, "en", 0.02),
    ("UA", 2, "UAH", 0.024, "ru", 0.04), ("ZA", 2, "ZAR", 0.054, "en", 0.02), ("AE", 4, "AED", 0.27, "en", 0.02),
    ("PT", 0, "EUR", 1.08, "pt", 0.02), ("AT", 1, "EUR", 1.08, "de", 0.02),
)

CODES = np.array([c[0] for c in COUNTRIES])
TZ = np.array([c[1] for c in COUNTRIES], dtype=np.int64)
CURRENCY = np.array([c[2] for c in COUNTRIES])
USD_RATE = np.array([c[3] for c in COUNTRIES])
LANGUAGE = np.array([c[4] for c in COUNTRIES])
WEIGHT = np.array([c[5] for c in COUNTRIES]) / sum(c[5] for c in COUNTRIES)

#: Where fraudsters' infrastructure (VPN exits, hosting) tends to sit; not a verdict on anyone living there.
HOSTING = np.flatnonzero(np.isin(CODES, ["NL", "US", "DE", "UA", "NG", "VN"]))

FIRST_NAMES = ("Alex", "Maria", "John", "Ana", "Mehmet", "Ayse", "Lucas", "Julia", "Wei", "Min", "Olu", "Chen",
               "Sofia", "Ivan", "Olga", "Rahul", "Priya", "Hiro", "Yuki", "Carlos", "Lea", "Tom", "Emma", "Noah",
               "Fatima", "Omar", "Linh", "Nam", "Dewi", "Budi", "Kim", "Jae", "Pierre", "Chloe", "Diego", "Lucia")
LAST_NAMES = ("Smith", "Garcia", "Muller", "Martin", "Yilmaz", "Kaya", "Silva", "Santos", "Nguyen", "Tran",
              "Kim", "Lee", "Sato", "Suzuki", "Kumar", "Sharma", "Okafor", "Adeyemi", "Rossi", "Dubois",
              "Kowalski", "Shevchenko", "Petrov", "Lopez", "Fernandez", "Wang", "Li", "Johnson", "Brown", "Jansen")
STREETS = ("Main St", "High Street", "Hauptstrasse", "Rue de la Paix", "Calle Mayor", "Ataturk Cd.", "Rua Augusta",
           "Nguyen Hue", "Jalan Sudirman", "Rizal Ave", "Gangnam-daero", "Khreshchatyk", "Queen St", "Oak Ave")
