"""Health Shield's Flower app: federated logistic regression, one model per coalition."""
