"""City Brain shared library, one package per feature over a small `core`.

Nothing here imports chalice. A feature's store imports only `core` and that
feature's models; `composition` wires stores to services."""
