"""`tongchou apply`: schedule workloads on a fleet and apply them to the clusters' APIs.

With `--dry-run`, writes the objects it would apply to `<output-dir>/<cluster>.yaml` and
touches no cluster. One cluster's failure (missing kubeconfig, unknown context, unreachable
API server, RBAC) is reported with its cause and never stops the others.
Exit codes: 0 applied, 1 a cluster failed (or an object waits for its namespace to finish
terminating), 2 bad input (documents, kubeconfig, context, an object the cluster refused).
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from console.executor.apply import ApplyResult, Ownership, apply_cluster
from console.executor.cli_options import add_safety_arguments
from console.executor.kube import ClusterError, Target, classify, connect
from console.executor.manifests import (
    APPLY_IDENTITY,
    Manifest,
    PlacedWorkload,
    Style,
    desired_objects,
)
from console.scheduler import Scheduler
from console.scheduler.cli import add_input_arguments, read_inputs
from tongchou.climsg import say
from tongchou.i18n import translate_composed
from tongchou.opsmsg import error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        help="kubeconfig with the clusters' contexts (default: $KUBECONFIG, ~/.kube/config)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="write the manifests per cluster; apply nothing"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("tongchou-manifests"),
        help="where --dry-run writes <cluster>.yaml (tongchou-manifests)",
    )
    parser.add_argument(
        "--identity",
        default=APPLY_IDENTITY,
        help="the name written as owner on every object; only objects carrying it are "
        f"changed or deleted ({APPLY_IDENTITY})",
    )
    add_safety_arguments(parser)


def default_kubeconfig() -> Path:
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return Path(env.split(os.pathsep)[0])
    return Path.home() / ".kube" / "config"


def run(args: argparse.Namespace) -> int:
    inputs = read_inputs(args, "apply")
    if inputs is None:
        return 2
    fleet, workloads, policies = inputs
    contexts = {c.name: c.kube_context for c in fleet.clusters.values() if c.kube_context}
    if not contexts:
        print(f"tongchou apply: {say(args.lang, 'apply_no_context')}", file=sys.stderr)
        return 2
    placements = Scheduler(fleet, policies).schedule(workloads)
    by_name = {w.name: w for w in workloads}
    items = [PlacedWorkload(by_name[p.workload], p.placed) for p in placements]
    for p in placements:
        if p.pending:
            reason = translate_composed(args.lang, p.reason)
            print(say(args.lang, "apply_pending", workload=p.workload, n=p.pending, reason=reason))
        off = sorted(c for c in p.placed if c not in contexts)
        if off:
            clusters = ", ".join(off)
            print(say(args.lang, "apply_no_context_for", workload=p.workload, clusters=clusters))
    archs: dict[str, set[str]] = {}
    for node in fleet.nodes.values():
        archs.setdefault(node.cluster, set()).add(node.arch)
    try:
        style = Style(args.identity, args.pod_security, {c: sorted(a) for c, a in archs.items()})
    except ValueError as err:
        print(f"tongchou apply: {error(args.lang, f'--identity: {err}')}", file=sys.stderr)
        return 2
    wanted = desired_objects(items, sorted(contexts), style)
    ownership = Ownership(args.identity, args.adopt)
    if args.dry_run:
        return write_manifests(args.output_dir, wanted, args.lang)
    kubeconfig = args.kubeconfig or default_kubeconfig()
    targets = [Target(c, contexts[c], kubeconfig) for c in sorted(contexts)]
    with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
        results = list(pool.map(lambda t: _apply(t, wanted[t.cluster], ownership), targets))
    return report(results, args.lang)


def report(results: list[ApplyResult], lang: str = "en") -> int:
    """Prints each cluster's outcome and what was refused, waits, was left or kept; returns
    the exit code."""
    code = 0
    for result in results:
        print(f"{result.cluster}: {error(lang, result.summary())}")
        for line in result.refused + result.waiting + result.foreign + result.kept:
            print(f"{result.cluster}: {line}")
        for line in result.alerts:
            print(say(lang, "apply_alert", cluster=result.cluster, line=line))
        if result.error is not None:
            code = max(code, 2 if result.error.user_error else 1)
        elif result.refused:  # the documents or the cluster's admission rules to fix
            code = max(code, 2)
        elif result.waiting:  # applied in full by the next run
            code = max(code, 1)
    return code


def _apply(target: Target, objects: list[Manifest], ownership: Ownership) -> ApplyResult:
    try:
        api = connect(target)
    except ClusterError as err:
        return ApplyResult(target.cluster, error=err)
    try:
        with api:
            return apply_cluster(target.cluster, api, objects, ownership=ownership)
    except Exception as err:  # never let one cluster end the others' work
        return ApplyResult(target.cluster, error=classify(err, api))


def write_manifests(folder: Path, wanted: dict[str, list[Manifest]], lang: str = "en") -> int:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for cluster, objects in sorted(wanted.items()):
            path = folder / f"{cluster}.yaml"
            head = f"# Objects Tongchou would apply to cluster {cluster}.\n"
            if not objects:
                head += "# Nothing is placed here: applying removes what Tongchou left.\n"
            body = yaml.safe_dump_all(objects, allow_unicode=True, sort_keys=False)
            path.write_text(head + (body if objects else ""), encoding="utf-8")
            print(say(lang, "apply_written", cluster=cluster, n=len(objects), path=path))
    except OSError as err:
        print(f"tongchou apply: {say(lang, 'apply_cannot_write', error=err)}", file=sys.stderr)
        return 2
    return 0
