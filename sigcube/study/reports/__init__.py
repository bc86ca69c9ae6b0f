"""Reports that compare computed figures with the published ones."""
