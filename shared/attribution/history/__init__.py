"""History: the deployment ledger, importing it, and backfilling attribution onto old rows."""
