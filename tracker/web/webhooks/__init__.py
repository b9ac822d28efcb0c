"""Signed Jira webhook deliveries."""
