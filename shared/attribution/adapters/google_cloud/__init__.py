"""The Google Cloud family: BigQuery, Cloud Storage, Pub/Sub. What runs in a deployed function."""
