"""Customer lifetime value from order logs (see the package docstring in segments/engine/clv/api.py)."""
