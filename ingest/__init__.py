"""Dataset manifests (``<name>.toml``: files, sha256, sources, citations, licences).

This folder is installed as the package data ``sigcube.manifests`` (see ``pyproject.toml``) and
read with ``importlib.resources.files("sigcube.manifests")``, so every installation can ingest.
"""
