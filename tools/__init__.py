"""Generators of the repository's reference documents (run from the repository root)."""
