"""Lineage out: OpenLineage RunEvents of the runs the use cases describe (``ports.LineageRun``),
sent through the openlineage-python client's own transports."""
