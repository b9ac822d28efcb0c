"""Probes and metrics for the machines that run the tracker: /healthz, /readyz, /metrics."""
