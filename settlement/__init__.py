"""Shapley valuation, games and points arithmetic (pure maths, no I/O), and the Flower app that
the institutions' SuperNodes and the SuperLink run (``flower_app``, package data)."""
