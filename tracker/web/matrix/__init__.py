"""The traceability matrix page and its exports."""
