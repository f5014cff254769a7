"""Idempotent apply to one cluster: create or patch what is wanted, remove what Tongchou left.

Only objects labelled `app.kubernetes.io/managed-by: tongchou` whose `tongchou.io/owned-by`
annotation names this hub (and, on a Deployment, its workload) are ever changed or deleted;
objects of another identity are left alone until the operator adopts them. A namespace is
deleted only when Tongchou made it and nothing but Tongchou's objects is left in it.
Applying the same objects twice makes no write the second time (each object is read and
compared first; see `console.executor.compare`).

Outcomes are per object: an object the API server refuses (an admission denial, 422, a
namespace that is terminating) is reported and the pass goes on; only a cluster-level
failure (unreachable, RBAC, an API error while listing) makes the cluster's pass fail.
A 429 waits as long as Retry-After says and tries again.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from functools import partial

from kubernetes import client

from console.executor.calls import ClusterCalls
from console.executor.compare import contains, extras, privilege
from console.executor.kube import ClusterError, classify
from console.executor.manifests import ANNOTATION_HELD, LABEL_WORKLOAD, Manifest
from console.executor.outcome import (
    ApplyResult,
    Ownership,
    describe,
    managed,
    not_ours,
    object_key,
    owned,
)
from console.executor.ratelimit import RateLimiter

__all__ = ["ApplyResult", "Ownership", "apply_cluster"]

ATTEMPTS = 3  # a create that meets 409 (someone created it meanwhile) is read and patched
KINDS = ("Namespace", "ResourceQuota", "Deployment")
# 403s that judge one object, not the caller's rights: admission and terminating namespaces.
_OBJECT_403 = re.compile(
    r"admission webhook|denied the request|violates PodSecurity|being terminated"
)
_TERMINATING = "being terminated"


def _object_level(err: client.ApiException) -> bool:
    """Whether an answer judges one object (and the pass goes on) rather than the cluster."""
    if err.status in (400, 404, 422):
        return True
    return err.status == 403 and bool(_OBJECT_403.search(_text(err)))


def _text(err: client.ApiException) -> str:
    try:
        body = json.loads(err.body or "{}")
    except (TypeError, ValueError):
        return str(err.body or err.reason)
    return str(body.get("message") or err.reason) if isinstance(body, dict) else str(body)


def _namespace_of(obj: Manifest) -> str:
    kind, ns, name = object_key(obj)
    return name if kind == "Namespace" else ns


def apply_cluster(
    cluster: str,
    api: client.ApiClient,
    objects: list[Manifest],
    limiter: RateLimiter | None = None,
    ownership: Ownership | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ApplyResult:
    """Makes the cluster hold exactly `objects` among the objects this identity owns; every
    API call first takes a token from `limiter`, when given.

    Tongchou's objects are read with one list per kind, so a pass with nothing to change
    costs three calls per cluster however many workloads there are; an object not among
    them is created straight away (a 409 then reads what is there: someone else's object,
    or one created meanwhile)."""
    ownership = ownership or Ownership()
    result = ApplyResult(cluster)
    calls = ClusterCalls(api, limiter, result, sleep)
    try:
        existing: dict[tuple[str, str, str], Manifest] = {}
        for kind in KINDS:
            existing.update((object_key(item), item) for item in calls.list_managed(kind))
        terminating = {
            key[2]
            for key, item in existing.items()
            if key[0] == "Namespace" and (item.get("metadata") or {}).get("deletionTimestamp")
        }
        for obj in objects:
            ns = _namespace_of(obj)
            if ns in terminating:
                result.waiting.append(
                    f"{describe(obj)}: namespace {ns} is terminating; applied once it is gone"
                )
                continue
            reason = (obj["metadata"].get("annotations") or {}).get(ANNOTATION_HELD)
            if reason:  # not applied; what runs already is neither changed nor pruned
                result.refused.append(f"{describe(obj)} not applied: {reason}")
                continue
            step = partial(_apply_one, calls, obj, result, existing.get(object_key(obj)), ownership)
            _settle(obj, result, step)
        _prune(calls, existing, {object_key(o) for o in objects}, result, ownership)
    except Exception as err:  # one cluster's failure is reported, never raised to the others
        result.error = classify(err, api)
    return result


def _settle(obj: Manifest, result: ApplyResult, step: Callable[[], None]) -> bool:
    """Runs one object's step; an answer about that object alone is recorded, not raised.
    Whether the step went through."""
    try:
        step()
        return True
    except client.ApiException as err:
        if not _object_level(err):
            raise
        text = _text(err)
        if _TERMINATING in text:
            result.waiting.append(f"{describe(obj)}: {text}")
        else:
            result.refused.append(f"{describe(obj)} refused ({err.status}): {text}")
        return False


def _apply_one(
    calls: ClusterCalls,
    obj: Manifest,
    result: ApplyResult,
    have: Manifest | None,
    ownership: Ownership,
) -> None:
    """`have`: the object as listed among Tongchou's, or None when the list did not hold it."""
    name = describe(obj)
    for attempt in range(ATTEMPTS):
        if attempt:  # after a 409: look at what is there now
            have = calls.read(obj)
        if have is None:
            try:
                calls.create(obj)
            except client.ApiException as err:
                if err.status == 409:  # it exists: someone else's, or created meanwhile
                    continue
                raise
            result.created.append(name)
            _note_ready(obj, None, result)
            return
        if not managed(have):
            result.refused.append(f"{name} exists and is not managed by Tongchou; left alone")
            return
        if not owned(have, ownership):
            result.foreign.append(not_ours(have))
            return
        _note_ready(obj, have, result)
        if _update(calls, obj, have, result):
            return
    raise ClusterError("conflict", f"{name} kept changing under us ({ATTEMPTS} attempts)")


def _update(calls: ClusterCalls, obj: Manifest, have: Manifest, result: ApplyResult) -> bool:
    """Makes an existing object of ours equal to `obj`: nothing when it is, a merge patch
    when a field Tongchou sets differs, a replacement when fields were added by hand.
    False when a 409 says it changed meanwhile (read it again)."""
    name = describe(obj)
    added = extras(have, obj) if obj["kind"] == "Deployment" else []
    if not added and contains(have, {k: obj[k] for k in ("metadata", "spec") if k in obj}):
        result.unchanged.append(name)
        return True
    try:
        if added:
            found = privilege(have)
            if found:
                result.alerts.append(f"{name}: privilege added by hand: {'; '.join(found)}")
            result.drift.append(f"{name}: changed by hand ({', '.join(added)}); replaced")
            calls.replace(obj, have)
        else:
            calls.patch(obj)
    except client.ApiException as err:
        if err.status == 409:
            return False
        raise
    result.updated.append(name)
    return True


def _note_ready(obj: Manifest, have: Manifest | None, result: ApplyResult) -> None:
    if obj["kind"] != "Deployment":
        return
    workload = obj["metadata"]["labels"][LABEL_WORKLOAD]
    status = (have or {}).get("status") or {}
    result.ready[workload] = int(status.get("readyReplicas") or 0)


def _prune(
    calls: ClusterCalls,
    existing: dict[tuple[str, str, str], Manifest],
    wanted: set[tuple[str, str, str]],
    result: ApplyResult,
    ownership: Ownership,
) -> None:
    """Deletes this identity's objects that are no longer wanted: Deployments and quotas
    first, then a namespace Tongchou made, once nothing else is left in it."""
    for key, item in existing.items():
        if key[0] == "Namespace" or key in wanted:
            continue
        if not owned(item, ownership):
            result.foreign.append(not_ours(item))
            continue
        if _settle(item, result, partial(calls.delete, *key)):
            result.deleted.append(describe(item))
    for key, item in existing.items():
        if key[0] != "Namespace" or key in wanted:
            continue
        if (item.get("metadata") or {}).get("deletionTimestamp"):
            continue
        if not owned(item, ownership):
            result.foreign.append(not_ours(item))
            continue
        others = calls.others_in(key[2])
        if others:
            shown = ", ".join(others[:5]) + (
                f" and {len(others) - 5} more" if len(others) > 5 else ""
            )
            result.kept.append(f"{describe(item)} kept: it also holds {shown}")
            continue
        if _settle(item, result, partial(calls.delete, *key)):
            result.deleted.append(describe(item))
