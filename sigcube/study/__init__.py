"""The Σ-Gravity study: the figures printed in the seed files, the presets that reproduce (or do not reproduce)
them, and the reports that set every computed figure beside its published one. Uses sigcube's public API only."""
