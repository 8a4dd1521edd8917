"""City Brain shared library: models, domain logic and storage.

Nothing here imports chalice; storage sits behind small repositories so the
domain logic is testable without AWS.
"""
