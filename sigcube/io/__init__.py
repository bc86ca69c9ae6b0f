"""The I/O layer: store locations, leases, seals and chunk manifests; cube schemas; dataset kinds, their readers
(``ingest``) and packers; opening and writing dataset cubes."""
