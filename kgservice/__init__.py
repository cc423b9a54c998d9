"""Health Shield (健康算法盾): a knowledge-graph compliance service for health data."""

__version__ = "0.1.0"
