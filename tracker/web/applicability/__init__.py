"""The applicability pages: what the data map proposes for each obligation, and confirming it."""
