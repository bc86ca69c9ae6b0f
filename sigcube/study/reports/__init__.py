"""Reports that compare computed figures with the published ones."""

from pathlib import Path

SWEEPS_DIR = Path(__file__).resolve().parents[3] / "sweeps"
"""The shipped sweep specs (the repository's ``sweeps/`` folder) the reports run."""
