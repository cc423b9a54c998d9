"""Federated training orchestration, Shapley valuation and contribution points.

The Shapley maths and points ledger arrive with the settlement issue; the package is declared
now so packaging and type-checking cover it from the start."""
