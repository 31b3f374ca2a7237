"""End-to-end tests over the local stack (``attribution serve``)."""
