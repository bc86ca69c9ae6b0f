"""How users reach sigcube besides the command line: the xarray accessor and backend, the explorer, reports of
sweep results."""
