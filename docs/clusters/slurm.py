"""Run a sigcube sweep on SLURM with dask-jobqueue (pip install dask-jobqueue).

    python docs/clusters/slurm.py sweeps/sigma_A0_k.toml s3://bucket/r.zarr --cube s3://bucket/sparc.zarr

With a shared filesystem, plain paths work for --cube and --out too. PBS: use PBSCluster with the same arguments.
"""

import subprocess
import sys

from dask_jobqueue import SLURMCluster

spec, out, *rest = sys.argv[1:]
cluster = SLURMCluster(
    queue="normal", account="my-project",
    cores=32, processes=32, memory="64GB",  # one single-threaded worker process per core, as sigcube's LocalCluster
    walltime="02:00:00", job_extra_directives=["--exclusive"],
    job_script_prologue=["export DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False"],  # as sigcube's LocalCluster
)
cluster.scale(jobs=4)  # 128 workers
subprocess.run(["sigcube", "sweep", spec, "--out", out, "--scheduler", cluster.scheduler_address, *rest], check=True)
cluster.close()
