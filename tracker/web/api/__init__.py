"""The JSON API under /api/v1: the read API and the token-authenticated test-run API."""
