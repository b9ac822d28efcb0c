"""The obligation page and its forms."""
