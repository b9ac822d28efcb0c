"""The releases pages and their read API."""
