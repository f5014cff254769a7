"""The hub's executor flags (`tongchou hub --kubeconfig …`) and the config they make."""

from __future__ import annotations

import argparse
from pathlib import Path

from console.executor.config import ExecutorConfig
from console.executor.failover import FailoverPolicy, MoveBack
from console.executor.manifests import POD_SECURITY_LEVELS
from tongchou.durations import parse_duration


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "executor and failover (on with --kubeconfig and clusters that name a kubeContext)"
    )
    group.add_argument(
        "--kubeconfig", type=Path, help="kubeconfig whose contexts reach the clusters"
    )
    group.add_argument(
        "--reconcile-interval", default="10s", help="how often each cluster is applied (10s)"
    )
    group.add_argument(
        "--failover-grace",
        default="60s",
        help="how long all of a cluster's agents may be lost before failover (60s)",
    )
    group.add_argument(
        "--api-failures",
        type=int,
        default=3,
        help="consecutive failed Kubernetes API checks that make a cluster unavailable (3)",
    )
    group.add_argument(
        "--recover-after",
        default="120s",
        help="how long a cluster must stay healthy before it is available again (120s)",
    )
    group.add_argument(
        "--move-back",
        choices=[m.value for m in MoveBack],
        default=MoveBack.NEVER.value,
        help="whether a recovered cluster gets its replicas back (never)",
    )
    group.add_argument(
        "--move-back-concurrency",
        type=int,
        default=2,
        help="workloads moving back at once; each keeps its old replicas until the new "
        "ones are ready (2)",
    )
    group.add_argument(
        "--api-qps",
        type=float,
        default=20.0,
        help="Kubernetes API calls a second per cluster, on average (20; bursts of twice that)",
    )
    group.add_argument(
        "--max-backoff", default="120s", help="longest wait between tries of a failing API"
    )
    add_safety_arguments(group)


def add_safety_arguments(group: argparse._ActionsContainer) -> None:
    """--adopt and --pod-security, shared by the hub and `tongchou apply`."""
    group.add_argument(
        "--adopt",
        action="store_true",
        help="take over (and prune) Tongchou objects another identity made: another hub, "
        "another store, or an older version; without it they are left alone and reported",
    )
    group.add_argument(
        "--pod-security",
        choices=list(POD_SECURITY_LEVELS),
        default="restricted",
        help="Pod Security level enforced on the namespaces Tongchou creates (restricted)",
    )


def executor_config(args: argparse.Namespace) -> ExecutorConfig | None:
    """The executor's config from the flags, or None without --kubeconfig; ValueError says
    which flag is wrong."""
    if args.kubeconfig is None:
        return None
    if not args.kubeconfig.is_file():
        raise ValueError(f"--kubeconfig {args.kubeconfig} does not exist or is not a file")
    policy = FailoverPolicy(
        agent_grace=parse_duration(args.failover_grace, "--failover-grace"),
        api_failures=args.api_failures,
        recover_after=parse_duration(args.recover_after, "--recover-after"),
        move_back=MoveBack(args.move_back),
    )
    return ExecutorConfig(
        kubeconfig=args.kubeconfig,
        interval=parse_duration(args.reconcile_interval, "--reconcile-interval"),
        max_backoff=parse_duration(args.max_backoff, "--max-backoff"),
        api_qps=args.api_qps,
        api_burst=max(1, int(args.api_qps * 2)),
        policy=policy,
        move_back_concurrency=args.move_back_concurrency,
        adopt=args.adopt,
        pod_security=args.pod_security,
    )
