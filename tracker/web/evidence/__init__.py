"""The test-evidence pages."""
