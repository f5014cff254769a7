"""Idempotent apply to one cluster: create or patch what is wanted, remove what Tongchou left.

Only objects labelled `app.kubernetes.io/managed-by: tongchou` are ever changed or deleted;
an object of the same name that someone else made is reported and left alone. Applying the
same objects twice makes no write the second time (each object is read and compared first).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from console.executor.kube import REQUEST_TIMEOUT, ClusterError, classify
from console.executor.manifests import LABEL_MANAGED_BY, LABEL_WORKLOAD, MANAGED_BY, Manifest
from console.executor.ratelimit import RateLimiter

MERGE_PATCH = "application/merge-patch+json"
ATTEMPTS = 3  # a create that meets 409 (someone created it meanwhile) is read and patched
KINDS = ("Namespace", "ResourceQuota", "Deployment")


@dataclass(slots=True)
class ApplyResult:
    """What one apply did in one cluster. `error` is set when the cluster could not be
    worked on at all; `refused` lists single objects left alone, with the reason."""

    cluster: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    ready: dict[str, int] = field(default_factory=dict)
    error: ClusterError | None = None

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def summary(self) -> str:
        if self.error is not None:
            return f"error ({self.error.kind}): {self.error.message}"
        parts = [
            f"{len(self.created)} created",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.deleted)} deleted",
        ]
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        return ", ".join(parts)


def _key(obj: Manifest) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return (obj["kind"], str(meta.get("namespace") or ""), str(meta["name"]))


def describe(obj: Manifest) -> str:
    kind, ns, name = _key(obj)
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


def contains(have: Any, want: Any) -> bool:
    """Whether `have` already holds everything in `want` (extra fields set by the server,
    such as defaults and status, do not count)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            k in have and contains(have[k], v) for k, v in want.items()
        )
    if isinstance(want, list):
        return (
            isinstance(have, list)
            and len(have) == len(want)
            and all(contains(h, w) for h, w in zip(have, want, strict=True))
        )
    return bool(have == want)


def managed(obj: Manifest) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(LABEL_MANAGED_BY) == MANAGED_BY)


class _Api:
    """The calls the executor makes, by kind, over the official client; bodies as JSON."""

    def __init__(self, api: client.ApiClient, limiter: RateLimiter | None) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.limiter = limiter

    def _go(self) -> None:
        if self.limiter is not None:
            self.limiter.acquire()

    @staticmethod
    def _json(response: Any) -> Manifest:
        data: Manifest = json.loads(response.data or b"{}")
        return data

    def read(self, obj: Manifest) -> Manifest | None:
        self._go()
        kind, ns, name = _key(obj)
        opts: dict[str, Any] = {"_preload_content": False, "_request_timeout": REQUEST_TIMEOUT}
        try:
            if kind == "Namespace":
                return self._json(self.core.read_namespace(name, **opts))
            if kind == "ResourceQuota":
                return self._json(self.core.read_namespaced_resource_quota(name, ns, **opts))
            return self._json(self.apps.read_namespaced_deployment(name, ns, **opts))
        except client.ApiException as err:
            if err.status == 404:
                return None
            raise

    def create(self, obj: Manifest) -> None:
        self._go()
        kind, ns, _ = _key(obj)
        opts: dict[str, Any] = {"_preload_content": False, "_request_timeout": REQUEST_TIMEOUT}
        if kind == "Namespace":
            self.core.create_namespace(client.V1Namespace.model_validate(obj), **opts)
        elif kind == "ResourceQuota":
            self.core.create_namespaced_resource_quota(
                ns, client.V1ResourceQuota.model_validate(obj), **opts
            )
        else:
            self.apps.create_namespaced_deployment(
                ns, client.V1Deployment.model_validate(obj), **opts
            )

    def patch(self, obj: Manifest) -> None:
        self._go()
        kind, ns, name = _key(obj)
        body = {k: v for k, v in obj.items() if k in ("metadata", "spec")}
        body["metadata"] = {
            k: v for k, v in obj["metadata"].items() if k in ("labels", "annotations")
        }
        opts: dict[str, Any] = {
            "_preload_content": False,
            "_request_timeout": REQUEST_TIMEOUT,
            "_content_type": MERGE_PATCH,
        }
        if kind == "Namespace":
            self.core.patch_namespace(name, body, **opts)
        elif kind == "ResourceQuota":
            self.core.patch_namespaced_resource_quota(name, ns, body, **opts)
        else:
            self.apps.patch_namespaced_deployment(name, ns, body, **opts)

    def delete(self, kind: str, ns: str, name: str) -> None:
        self._go()
        opts: dict[str, Any] = {"_preload_content": False, "_request_timeout": REQUEST_TIMEOUT}
        try:
            if kind == "Namespace":
                self.core.delete_namespace(name, **opts)
            elif kind == "ResourceQuota":
                self.core.delete_namespaced_resource_quota(name, ns, **opts)
            else:
                self.apps.delete_namespaced_deployment(name, ns, **opts)
        except client.ApiException as err:
            if err.status != 404:  # already gone is what we wanted
                raise

    def list_managed(self, kind: str) -> list[Manifest]:
        """Objects of `kind` carrying Tongchou's label (filtered here too, so a server that
        ignores label selectors cannot make us touch anything else)."""
        self._go()
        selector = f"{LABEL_MANAGED_BY}={MANAGED_BY}"
        opts: dict[str, Any] = {
            "_preload_content": False,
            "_request_timeout": REQUEST_TIMEOUT,
            "label_selector": selector,
        }
        call: Callable[..., Any]
        if kind == "Namespace":
            call = self.core.list_namespace
        elif kind == "ResourceQuota":
            call = self.core.list_resource_quota_for_all_namespaces
        else:
            call = self.apps.list_deployment_for_all_namespaces
        items = self._json(call(**opts)).get("items") or []
        return [dict(item, kind=kind) for item in items if managed(item)]

    def namespace_empty(self, name: str) -> bool:
        """Whether the namespace holds no Deployment at all (ours are deleted first)."""
        self._go()
        opts: dict[str, Any] = {"_preload_content": False, "_request_timeout": REQUEST_TIMEOUT}
        items = self._json(self.apps.list_namespaced_deployment(name, **opts)).get("items") or []
        return not [i for i in items if not (i.get("metadata") or {}).get("deletionTimestamp")]


def apply_cluster(
    cluster: str,
    api: client.ApiClient,
    objects: list[Manifest],
    limiter: RateLimiter | None = None,
) -> ApplyResult:
    """Makes the cluster hold exactly `objects` among the objects Tongchou manages; every
    API call first takes a token from `limiter`, when given.

    Tongchou's objects are read with one list per kind, so a pass with nothing to change
    costs three calls per cluster however many workloads there are; an object not among
    them is created straight away (a 409 then reads what is there: someone else's object,
    or one created meanwhile)."""
    result = ApplyResult(cluster)
    calls = _Api(api, limiter)
    try:
        existing: dict[tuple[str, str, str], Manifest] = {}
        for kind in KINDS:
            existing.update((_key(item), item) for item in calls.list_managed(kind))
        for obj in objects:
            _apply_one(calls, obj, result, existing.get(_key(obj)))
        _prune(calls, existing, {_key(o) for o in objects}, result)
    except Exception as err:  # one cluster's failure is reported, never raised to the others
        result.error = classify(err, api)
    return result


def _apply_one(calls: _Api, obj: Manifest, result: ApplyResult, have: Manifest | None) -> None:
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
        _note_ready(obj, have, result)
        if contains(have, {k: obj[k] for k in ("metadata", "spec") if k in obj}):
            result.unchanged.append(name)
            return
        try:
            calls.patch(obj)
        except client.ApiException as err:
            if err.status == 409:
                continue
            raise
        result.updated.append(name)
        return
    raise ClusterError("conflict", f"{name} kept changing under us ({ATTEMPTS} attempts)")


def _note_ready(obj: Manifest, have: Manifest | None, result: ApplyResult) -> None:
    if obj["kind"] != "Deployment":
        return
    workload = obj["metadata"]["labels"][LABEL_WORKLOAD]
    status = (have or {}).get("status") or {}
    result.ready[workload] = int(status.get("readyReplicas") or 0)


def _prune(
    calls: _Api,
    existing: dict[tuple[str, str, str], Manifest],
    wanted: set[tuple[str, str, str]],
    result: ApplyResult,
) -> None:
    """Deletes Tongchou's objects that are no longer wanted: Deployments and quotas first,
    then a namespace once no Deployment is left in it."""
    for key, item in existing.items():
        if key[0] != "Namespace" and key not in wanted:
            calls.delete(*key)
            result.deleted.append(describe(item))
    for key, item in existing.items():
        if key[0] != "Namespace" or key in wanted:
            continue
        if (item.get("metadata") or {}).get("deletionTimestamp"):
            continue
        if calls.namespace_empty(key[2]):
            calls.delete(*key)
            result.deleted.append(describe(item))
