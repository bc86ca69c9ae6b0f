"""Joint sweeps: one kernel's shared parameter grid over several dataset cubes, each with its own likelihood."""

from sigcube.engines.joint.run import JointSummary, open_joint, run_joint
from sigcube.engines.joint.spec import JointSpec, ProbeSpec, is_joint_spec, load_joint_spec, parse_joint_spec

__all__ = ["JointSpec", "JointSummary", "ProbeSpec", "is_joint_spec", "load_joint_spec", "open_joint",
           "parse_joint_spec", "run_joint"]
