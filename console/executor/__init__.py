"""The Kubernetes executor: placements become Namespaces, ResourceQuotas and Deployments."""

from console.executor.apply import ApplyResult, apply_cluster
from console.executor.kube import ClusterError, connect
from console.executor.manifests import MANAGED_BY, PlacedWorkload, desired_objects

__all__ = [
    "MANAGED_BY",
    "ApplyResult",
    "ClusterError",
    "PlacedWorkload",
    "apply_cluster",
    "connect",
    "desired_objects",
]
