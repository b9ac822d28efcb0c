"""The audit trail page and its JSON Lines export."""
