"""The operator-facing HTTP side: for now /metrics and /healthz on the API port."""
