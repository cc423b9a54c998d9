"""Settlements (Shapley shares into points), the points ledger, the catalogue, redemptions."""
