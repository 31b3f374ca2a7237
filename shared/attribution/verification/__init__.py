"""The post-run verifier: attribution coverage, completeness, registry and performance checks."""
