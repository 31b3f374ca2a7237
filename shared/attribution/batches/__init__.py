"""Prediction batches: the request, its rows, the claim, scoring, stamping the card, the
execution log."""
