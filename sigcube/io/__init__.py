"""The I/O layer: store locations, leases, seals and chunk manifests; cube schemas; dataset kinds, their readers
(``ingest``) and packers; opening and writing dataset cubes."""

from sigcube.io import kinds  # noqa: F401, E402  (registers the built-in kinds of dataset cube)
