"""User behaviour: segments, journeys and sequence patterns, churn and lifetime value (see docs/behaviour.md)."""
