"""Adapters for the ports in ``attribution.ports``: Google Cloud and embedded families."""
