"""Developer tooling: staging, the import graph, the demo, training,
slates, the local stack. Never staged into a function."""
