"""The engines: a kernel evaluated on a cube (``evaluate``), parameter sweeps (``sweep``), per-object fits
(``fit``), and the Dask cluster they run on (``dask``)."""
