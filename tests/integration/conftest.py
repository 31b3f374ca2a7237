"""Fixtures of the integration tests.

The Pub/Sub and GCS emulator fixtures (``pubsub_emulator``, ``gcs_emulator``, ``gcs_bucket``,
``pubsub``, ``pubsub_topic``, ``gcp_project``) live in ``tests/emulators.py``; ``tests/conftest.py``
imports them, so tests/integration and tests/e2e share one emulator of each kind per session
(define them here again and this folder would start its own). Tests that use them are marked
``emulator`` automatically.
"""
