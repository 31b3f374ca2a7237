"""Champion versus challenger on the same games: paired hit rates, MAE and a verdict."""
