"""The model card: what a CatBoost artifact is, read from the file, registered and published."""
