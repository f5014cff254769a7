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
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from kubernetes import client

from console.executor.compare import contains, extras, privilege
from console.executor.kube import REQUEST_TIMEOUT, ClusterError, classify
from console.executor.manifests import (
    ANNOTATION_HELD,
    ANNOTATION_OWNED_BY,
    APPLY_IDENTITY,
    LABEL_MANAGED_BY,
    LABEL_WORKLOAD,
    MANAGED_BY,
    Manifest,
)
from console.executor.ratelimit import RateLimiter

MERGE_PATCH = "application/merge-patch+json"
ATTEMPTS = 3  # a create that meets 409 (someone created it meanwhile) is read and patched
THROTTLES = 5  # 429 answers one call may meet before the pass gives up
MAX_RETRY_AFTER = 30.0  # seconds: the longest Retry-After honoured
KINDS = ("Namespace", "ResourceQuota", "Deployment")
# 403s that judge one object, not the caller's rights: admission and terminating namespaces.
_OBJECT_403 = re.compile(
    r"admission webhook|denied the request|violates PodSecurity|being terminated"
)
_TERMINATING = "being terminated"
# Kinds found in every namespace that do not count as "something else" in it.
_SYSTEM = {("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")}
_IGNORED_RESOURCES = {
    "events",
    "endpoints",
    "endpointslices",
    "pods",
    "replicasets",
    "controllerrevisions",
    "leases",
}


@dataclass(frozen=True, slots=True)
class Ownership:
    """Whose objects a pass may change: `identity`'s; with `adopt`, every object labelled
    as Tongchou's (another hub's, or one made before identities), which it then takes over."""

    identity: str = APPLY_IDENTITY
    adopt: bool = False


@dataclass(slots=True)
class ApplyResult:
    """What one apply did in one cluster. `error` is set when the cluster could not be
    worked on at all; `refused` lists single objects the server or the rules kept from being
    applied, with the reason; `waiting` those held back until their namespace is gone;
    `foreign` Tongchou objects of another identity left alone; `kept` namespaces not deleted
    because they hold something else; `drift` objects found changed by hand and replaced;
    `alerts` hand-made changes that added privilege."""

    cluster: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    throttled: float = 0.0  # seconds spent waiting on Retry-After
    api_errors: dict[str, int] = field(default_factory=dict)  # HTTP status → answers
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
        for name in ("refused", "waiting", "foreign", "kept"):
            if getattr(self, name):
                parts.append(f"{len(getattr(self, name))} {name}")
        return ", ".join(parts)


def _key(obj: Manifest) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return (obj["kind"], str(meta.get("namespace") or ""), str(meta["name"]))


def describe(obj: Manifest) -> str:
    kind, ns, name = _key(obj)
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


def managed(obj: Manifest) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(LABEL_MANAGED_BY) == MANAGED_BY)


def owner_of(obj: Manifest) -> str:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(ANNOTATION_OWNED_BY) or "")


def expected_owner(obj: Manifest, identity: str) -> str:
    """The owned-by value `identity` gives `obj`: `<identity>/<workload>` on a Deployment."""
    if obj.get("kind") == "Deployment":
        workload = ((obj.get("metadata") or {}).get("labels") or {}).get(LABEL_WORKLOAD, "")
        return f"{identity}/{workload}"
    return identity


def owned(obj: Manifest, ownership: Ownership) -> bool:
    """Whether this pass may change or delete `obj`."""
    if not managed(obj):
        return False
    return ownership.adopt or owner_of(obj) == expected_owner(obj, ownership.identity)


def _not_ours(obj: Manifest) -> str:
    owner = owner_of(obj) or "no owner annotation"
    return (
        f"{describe(obj)} belongs to {owner}; left alone (adopt it to take it over:"
        " `tongchou hub --adopt`, `tongchou apply --adopt`)"
    )


class _Api:
    """The calls the executor makes, by kind, over the official client; bodies as JSON.
    Every call takes a token from the limiter; a 429 waits out its Retry-After."""

    def __init__(
        self,
        api: client.ApiClient,
        limiter: RateLimiter | None,
        result: ApplyResult,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.limiter = limiter
        self.result = result
        self.sleep = sleep

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        opts: dict[str, Any] = {"_preload_content": False, "_request_timeout": REQUEST_TIMEOUT}
        for attempt in range(THROTTLES + 1):
            if self.limiter is not None:
                self.limiter.acquire()
            try:
                return fn(*args, **opts, **kwargs)
            except client.ApiException as err:
                status = str(err.status or 0)
                self.result.api_errors[status] = self.result.api_errors.get(status, 0) + 1
                if err.status != 429 or attempt == THROTTLES:
                    raise
                wait = _retry_after(err)
                self.result.throttled += wait
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _json(response: Any) -> Manifest:
        data: Manifest = json.loads(response.data or b"{}")
        return data

    def read(self, obj: Manifest) -> Manifest | None:
        kind, ns, name = _key(obj)
        try:
            if kind == "Namespace":
                return self._json(self._call(self.core.read_namespace, name))
            if kind == "ResourceQuota":
                return self._json(self._call(self.core.read_namespaced_resource_quota, name, ns))
            return self._json(self._call(self.apps.read_namespaced_deployment, name, ns))
        except client.ApiException as err:
            if err.status == 404:
                return None
            raise

    def create(self, obj: Manifest) -> None:
        kind, ns, _ = _key(obj)
        if kind == "Namespace":
            self._call(self.core.create_namespace, client.V1Namespace.model_validate(obj))
        elif kind == "ResourceQuota":
            quota = client.V1ResourceQuota.model_validate(obj)
            self._call(self.core.create_namespaced_resource_quota, ns, quota)
        else:
            body = client.V1Deployment.model_validate(obj)
            self._call(self.apps.create_namespaced_deployment, ns, body)

    def patch(self, obj: Manifest) -> None:
        kind, ns, name = _key(obj)
        body = {k: v for k, v in obj.items() if k in ("metadata", "spec")}
        body["metadata"] = {
            k: v for k, v in obj["metadata"].items() if k in ("labels", "annotations")
        }
        opts = {"_content_type": MERGE_PATCH}
        if kind == "Namespace":
            self._call(self.core.patch_namespace, name, body, **opts)
        elif kind == "ResourceQuota":
            self._call(self.core.patch_namespaced_resource_quota, name, ns, body, **opts)
        else:
            self._call(self.apps.patch_namespaced_deployment, name, ns, body, **opts)

    def replace(self, obj: Manifest, have: Manifest) -> None:
        """Writes `obj` whole over `have` (a Deployment): fields added by hand are gone."""
        _, ns, name = _key(obj)
        body = json.loads(json.dumps(obj))
        version = (have.get("metadata") or {}).get("resourceVersion")
        if version:
            body["metadata"]["resourceVersion"] = version
        self._call(
            self.apps.replace_namespaced_deployment,
            name,
            ns,
            client.V1Deployment.model_validate(body),
        )

    def delete(self, kind: str, ns: str, name: str) -> None:
        try:
            if kind == "Namespace":
                self._call(self.core.delete_namespace, name)
            elif kind == "ResourceQuota":
                self._call(self.core.delete_namespaced_resource_quota, name, ns)
            else:
                self._call(self.apps.delete_namespaced_deployment, name, ns)
        except client.ApiException as err:
            if err.status != 404:  # already gone is what we wanted
                raise

    def list_managed(self, kind: str) -> list[Manifest]:
        """Objects of `kind` carrying Tongchou's label (filtered here too, so a server that
        ignores label selectors cannot make us touch anything else)."""
        selector = f"{LABEL_MANAGED_BY}={MANAGED_BY}"
        call: Callable[..., Any]
        if kind == "Namespace":
            call = self.core.list_namespace
        elif kind == "ResourceQuota":
            call = self.core.list_resource_quota_for_all_namespaces
        else:
            call = self.apps.list_deployment_for_all_namespaces
        items = self._json(self._call(call, label_selector=selector)).get("items") or []
        return [dict(item, kind=kind) for item in items if managed(item)]

    def get(self, path: str) -> Manifest:
        """GET any path of the API (discovery, lists of any kind) as JSON."""

        def call(**opts: Any) -> Any:
            method, url, headers, _body, _ = self.api.param_serialize(
                "GET",
                path,
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
            )
            response = self.api.call_api(
                method, url, header_params=headers, _request_timeout=opts["_request_timeout"]
            )
            response.read()  # type: ignore[no-untyped-call]
            if not 200 <= response.status <= 299:
                raise client.ApiException(http_resp=response)
            return response

        return self._json(self._call(call))

    def namespaced_lists(self) -> list[str]:
        """The list paths (with `{ns}`) of every namespaced kind the server serves, from
        discovery: core v1 and each group's preferred version."""
        versions = ["/api/v1"]
        groups = self.get("/apis").get("groups") or []
        versions += [f"/apis/{g['preferredVersion']['groupVersion']}" for g in groups]
        out = []
        for base in versions:
            for res in self.get(base).get("resources") or []:
                name = str(res.get("name") or "")
                if "/" in name or not res.get("namespaced") or name in _IGNORED_RESOURCES:
                    continue
                if "list" in (res.get("verbs") or []):
                    out.append(f"{base}/namespaces/{{ns}}/{name}")
        return out

    def others_in(self, namespace: str) -> list[str]:
        """What the namespace holds besides Tongchou's objects and what every namespace has
        (`kube-root-ca.crt`, the `default` service account and its token)."""
        found = []
        for path in self.namespaced_lists():
            try:
                data = self.get(path.format(ns=namespace))
            except client.ApiException as err:
                if err.status in (404, 405):  # listed by discovery but not served
                    continue
                raise
            kind = str(data.get("kind") or "").removesuffix("List")
            for item in data.get("items") or []:
                meta = item.get("metadata") or {}
                if managed(item) or (item.get("kind") or kind, meta.get("name")) in _SYSTEM:
                    continue
                if item.get("type") == "kubernetes.io/service-account-token":
                    continue
                found.append(f"{item.get('kind') or kind} {meta.get('name')}")
        return found


def _retry_after(err: client.ApiException) -> float:
    headers = err.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after") or "1"
    try:
        return max(0.0, min(MAX_RETRY_AFTER, float(value)))
    except ValueError:
        return 1.0


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
    kind, ns, name = _key(obj)
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
    calls = _Api(api, limiter, result, sleep)
    try:
        existing: dict[tuple[str, str, str], Manifest] = {}
        for kind in KINDS:
            existing.update((_key(item), item) for item in calls.list_managed(kind))
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
            step = partial(_apply_one, calls, obj, result, existing.get(_key(obj)), ownership)
            _settle(obj, result, step)
        _prune(calls, existing, {_key(o) for o in objects}, result, ownership)
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
    calls: _Api,
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
            result.foreign.append(_not_ours(have))
            return
        _note_ready(obj, have, result)
        added = extras(have, obj) if obj["kind"] == "Deployment" else []
        same = contains(have, {k: obj[k] for k in ("metadata", "spec") if k in obj})
        if same and not added:
            result.unchanged.append(name)
            return
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
    ownership: Ownership,
) -> None:
    """Deletes this identity's objects that are no longer wanted: Deployments and quotas
    first, then a namespace Tongchou made, once nothing else is left in it."""
    for key, item in existing.items():
        if key[0] == "Namespace" or key in wanted:
            continue
        if not owned(item, ownership):
            result.foreign.append(_not_ours(item))
            continue
        if _settle(item, result, partial(calls.delete, *key)):
            result.deleted.append(describe(item))
    for key, item in existing.items():
        if key[0] != "Namespace" or key in wanted:
            continue
        if (item.get("metadata") or {}).get("deletionTimestamp"):
            continue
        if not owned(item, ownership):
            result.foreign.append(_not_ours(item))
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
