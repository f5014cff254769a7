"""The Kubernetes executor: placements become Namespaces, ResourceQuotas and Deployments.

`manifests` (what to apply), `kube` (reaching a cluster, naming failures), `apply` (idempotent
apply and pruning), `failover` (availability rules), `config`, and `cli` (`tongchou apply`).
Submodules are imported directly, so reading the configuration does not load the client.
"""
