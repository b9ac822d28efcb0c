"""Periodic reviews and review campaigns."""
