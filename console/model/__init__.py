"""Domain types of Tongchou: plain typed classes, free of gRPC, YAML and UI."""

from console.model.fleet import Cluster, Division, Fleet, Node, Resources, Site
from console.model.quantity import QuantityError, format_bytes, format_cpu, parse_bytes, parse_cpu

__all__ = [
    "Cluster",
    "Division",
    "Fleet",
    "Node",
    "QuantityError",
    "Resources",
    "Site",
    "format_bytes",
    "format_cpu",
    "parse_bytes",
    "parse_cpu",
]
