"""A Coiled cloud cluster with an S3 result store (pip install coiled; coiled login).

    python docs/clusters/coiled.py sweeps/sigma_A0_k.toml s3://bucket/r.zarr s3://bucket/sparc.zarr

Workers get the driver's AWS credentials (Coiled forwards them by default); the cluster runs in the bucket's region.
"""

import subprocess
import sys

import coiled

spec, out, cube = sys.argv[1:4]
cluster = coiled.Cluster(n_workers=32, worker_vm_types=["c7i.large"], region="us-east-1",
                         package_sync=True,  # sigcube and its s3 extra installed on every worker
                         environ={"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"})  # as sigcube's LocalCluster
try:
    subprocess.run(["sigcube", "sweep", spec, "--out", out, "--cube", cube, "--scheduler", cluster.scheduler_address],
                   check=True)
finally:
    cluster.close()
