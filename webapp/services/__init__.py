"""The service layer: the only place that changes state, one transaction per operation."""
