"""Federated training jobs: compliance first, Flower processes, ledgered rounds, valuation."""
