"""Developer tooling: staging, the import graph, the environment scan, the demo, training,
slates, the local stack. Never staged into a function."""
