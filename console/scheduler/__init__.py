"""The placement engine: filter → fit estimate → score → divide, with explanations."""

from console.scheduler.divide import divide
from console.scheduler.result import ClusterVerdict, Placement, PolicyEffect
from console.scheduler.scheduler import Scheduler, compile_policies
from console.scheduler.snapshot import Snapshot

__all__ = [
    "ClusterVerdict",
    "Placement",
    "PolicyEffect",
    "Scheduler",
    "Snapshot",
    "compile_policies",
    "divide",
]
