"""The Jira page and its actions."""
