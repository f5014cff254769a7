"""The calls the executor makes to one cluster's API, over the official client.

Every call takes a token from the cluster's rate limiter, counts its error answers, and waits
out a 429's Retry-After before trying again. `others_in` asks the server's discovery for every
namespaced kind, to tell whether a namespace holds anything but Tongchou's objects.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from kubernetes import client

from console.executor.kube import REQUEST_TIMEOUT
from console.executor.manifests import LABEL_MANAGED_BY, MANAGED_BY, Manifest
from console.executor.outcome import ApplyResult, managed, object_key
from console.executor.ratelimit import RateLimiter

MERGE_PATCH = "application/merge-patch+json"
THROTTLES = 5  # 429 answers one call may meet before the pass gives up
MAX_RETRY_AFTER = 30.0  # seconds: the longest Retry-After honoured
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


class ClusterCalls:
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
        self._lists: list[str] | None = None

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
        kind, ns, name = object_key(obj)
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
        kind, ns, _ = object_key(obj)
        if kind == "Namespace":
            self._call(self.core.create_namespace, client.V1Namespace.model_validate(obj))
        elif kind == "ResourceQuota":
            quota = client.V1ResourceQuota.model_validate(obj)
            self._call(self.core.create_namespaced_resource_quota, ns, quota)
        else:
            body = client.V1Deployment.model_validate(obj)
            self._call(self.apps.create_namespaced_deployment, ns, body)

    def patch(self, obj: Manifest) -> None:
        kind, ns, name = object_key(obj)
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
        _, ns, name = object_key(obj)
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
        discovery: core v1 and each group's preferred version (asked once per pass)."""
        if self._lists is None:
            self._lists = self._discover()
        return self._lists

    def _discover(self) -> list[str]:
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
