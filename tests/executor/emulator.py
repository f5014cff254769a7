"""Kubernetes API emulators (kmock's KubernetesEmulator) on loopback, one per cluster.

Each runs its own event loop on a thread, so the synchronous official client can call it
from anywhere; `stop()` closes the port (the cluster is away) and `start()` opens it again
on the same port with the objects it held.

On top of kmock, the emulator behaves as a real API server does where the executor's
safety depends on it: deleting a Namespace marks it terminating and then deletes everything
in it (the cascade); nothing new may be created in a terminating or missing namespace;
quantities are stored in their canonical form (`500000000` → `500M`, `1000` → `1k`); lists
honour label selectors; PUT replaces an object whole; `fail()` makes chosen requests answer
an error (403, 422, 429 with Retry-After) a number of times.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import re
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp.web
import kmock
import yaml

# kmock 0.8 reads `/api/v1/namespaces[/<name>]` as a namespaced path with no resource; the
# shim serves the Namespace resource under a path it parses (a cluster-scoped resource).
_NAMESPACES = re.compile(r"^/api/v1/namespaces(/[^/]+)?/?$")
_ALIAS = "/apis/emulated.tongchou.io/v1/clusternamespaces"
SHUTDOWN_SECONDS = 1.0
"""How long a stopped cluster lets requests still open (watches) run before cutting them."""
_IN_NAMESPACE = re.compile(r"^/apis?/(?:[^/]+/)?v1/namespaces/([^/]+)/([^/]+)(?:/([^/]+))?/?$")
RESOURCES = {
    "emulated.tongchou.io/v1/clusternamespaces": ("Namespace", False),
    "v1/resourcequotas": ("ResourceQuota", True),
    "apps/v1/deployments": ("Deployment", True),
    "v1/configmaps": ("ConfigMap", True),
    "v1/secrets": ("Secret", True),
    "v1/services": ("Service", True),
}
_KIND_OF = {path.rsplit("/", 1)[1]: kind for path, (kind, _) in RESOURCES.items()}
VERBS = {"get", "list", "create", "patch", "update", "delete"}
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -3, "u": -2, "m": -1, "": 0, "k": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


def canonical_quantity(text: str) -> str:
    """A quantity as the API server stores it: the largest suffix that keeps an integer, in
    the base (binary or decimal) the quantity was written in."""
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", text.strip())
    if m is None:
        return text
    number, suffix = Decimal(m.group(1)), m.group(2)
    if suffix in _BINARY:
        value = number * 1024 ** _BINARY[suffix]
        if value == value.to_integral_value():
            for name, power in sorted(_BINARY.items(), key=lambda kv: -kv[1]):
                if value % 1024**power == 0:
                    return f"{int(value // 1024**power)}{name}"
        suffix = ""
    elif suffix in _DECIMAL:
        value = number * Decimal(1000) ** _DECIMAL[suffix]
    else:
        return text
    for name, power in sorted(_DECIMAL.items(), key=lambda kv: -kv[1]):
        scaled = value / Decimal(1000) ** power
        if scaled == scaled.to_integral_value():
            return f"{int(scaled)}{name}"
    return text


def canonicalise(raw: dict[str, Any]) -> dict[str, Any]:
    """The object with every quantity (container requests and limits, quota `hard`) in
    canonical form."""

    def walk(obj: Any) -> Any:
        if isinstance(obj, dict):
            out = {}
            for k, v in obj.items():
                if k in ("requests", "limits", "hard") and isinstance(v, dict):
                    out[k] = {q: canonical_quantity(str(n)) for q, n in v.items()}
                else:
                    out[k] = walk(v)
            return out
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    result: dict[str, Any] = walk(raw)
    return result


def selected(labels: dict[str, str], selector: str) -> bool:
    """Whether `labels` match a label selector (`k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`,
    `k notin (a,b)`, joined by commas)."""
    for found in re.findall(r"[^,(]+(?:\([^)]*\))?", selector):
        term = found.strip()
        if not term:
            continue
        m = re.fullmatch(r"(\S+)\s+(in|notin)\s+\(([^)]*)\)", term)
        if m:
            values = {v.strip() for v in m.group(3).split(",")}
            if (labels.get(m.group(1)) in values) != (m.group(2) == "in"):
                return False
        elif "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = re.split("==?", term, maxsplit=1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


@dataclass
class Fault:
    """A request (method, path pattern) answered with an error `times` times."""

    method: str
    path: re.Pattern[str]
    times: int
    status: int
    reason: str
    message: str
    headers: dict[str, str]


def _status(
    code: int, reason: str, message: str, headers: dict[str, str] | None = None
) -> aiohttp.web.Response:
    body = {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }
    return aiohttp.web.json_response(body, status=code, headers=headers)


class Emulator(kmock.KubernetesEmulator):
    terminate_after = 0.5  # seconds a deleted namespace stays terminating
    faults: list[Fault]

    def _find(self, plural: str, namespace: str | None, name: str) -> Any:
        for (resource, ns, n), obj in list(self.objects.items()):
            if resource.plural == plural and (ns or None) == (namespace or None) and n == name:
                return None if obj.deleted else obj
        return None

    def _namespace(self, name: str) -> Any:
        return self._find("clusternamespaces", None, name)

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        method, path = raw_request.method, raw_request.rel_url.path
        for fault in getattr(self, "faults", []):
            if fault.times > 0 and fault.method == method and fault.path.search(path):
                fault.times -= 1
                return _status(fault.status, fault.reason, fault.message, fault.headers)
        match = _NAMESPACES.match(path)
        if match and method == "DELETE" and match.group(1):
            return await self._delete_namespace(match.group(1).strip("/"))
        if match:
            url = raw_request.rel_url.with_path(_ALIAS + (match.group(1) or ""))
            raw_request = raw_request.clone(rel_url=url)
        inside = _IN_NAMESPACE.match(path)
        if inside and method == "POST":
            ns = self._namespace(inside.group(1))
            if ns is None:
                return _status(404, "NotFound", f'namespaces "{inside.group(1)}" not found')
            if ns.get("metadata", {}).get("deletionTimestamp"):
                return _status(
                    403,
                    "Forbidden",
                    f"unable to create new content in namespace {inside.group(1)} because"
                    " it is being terminated",
                )
        if inside and method == "PUT" and inside.group(3):
            return await self._replace(inside, raw_request)
        response = await super().__call__(raw_request)
        if inside and method in ("POST", "PATCH"):
            self._canonicalise(inside.group(1), inside.group(2), raw_request)
        selector = raw_request.rel_url.query.get("labelSelector")
        if method == "GET" and selector and isinstance(response, aiohttp.web.Response):
            data = json.loads(response.body or b"{}")  # type: ignore[arg-type]
            if isinstance(data, dict) and "items" in data:
                data["items"] = [
                    i
                    for i in data["items"]
                    if selected((i.get("metadata") or {}).get("labels") or {}, selector)
                ]
                return aiohttp.web.json_response(data, status=response.status)
        return response

    def _canonicalise(self, ns: str, plural: str, raw_request: aiohttp.web.BaseRequest) -> None:
        name = raw_request.rel_url.path.rstrip("/").rsplit("/", 1)[-1]
        if raw_request.method == "POST":
            try:
                name = json.loads(raw_request._read_bytes or b"{}")["metadata"]["name"]
            except (ValueError, KeyError):
                return
        obj = self._find(plural, ns, name)
        if obj is not None:
            fixed = canonicalise(obj.raw)
            if fixed != obj.raw:
                obj.create(fixed)

    async def _replace(
        self, inside: re.Match[str], raw_request: aiohttp.web.BaseRequest
    ) -> aiohttp.web.StreamResponse:
        ns, plural, name = inside.groups()
        obj = self._find(plural, ns, name)
        if obj is None:
            return _status(404, "NotFound", f'{plural} "{name}" not found')
        body = json.loads(await raw_request.read())
        status = obj.raw.get("status")
        new = canonicalise(body) | ({"status": status} if status else {})
        obj.create(new)
        self._requests_put = getattr(self, "_requests_put", 0) + 1
        return aiohttp.web.json_response(new)

    async def _delete_namespace(self, name: str) -> aiohttp.web.StreamResponse:
        ns = self._namespace(name)
        if ns is None:
            return _status(404, "NotFound", f'namespaces "{name}" not found')
        self._requests_delete_ns = getattr(self, "_requests_delete_ns", 0) + 1
        if not ns.get("metadata", {}).get("deletionTimestamp"):
            now = datetime.datetime.now(tz=datetime.UTC).isoformat()
            ns.patch({"metadata": {"deletionTimestamp": now}, "status": {"phase": "Terminating"}})
            asyncio.get_running_loop().call_later(self.terminate_after, self._cascade, name)
        return aiohttp.web.json_response(ns.raw)

    def _cascade(self, name: str) -> None:
        """What the namespace controller does: everything in the namespace goes, then it."""
        for (_resource, ns, _n), obj in list(self.objects.items()):
            if ns == name and not obj.deleted:
                obj.delete()
        ns_obj = self._namespace(name)
        if ns_obj is not None:
            ns_obj.delete()


class EmulatedCluster:
    """One emulated API server on 127.0.0.1; `objects()` reads what it holds."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = 0
        self.handler = Emulator()
        self.handler.faults = []
        for resource, (kind, namespaced) in RESOURCES.items():
            self.handler.resources[resource] = kmock.ResourceInfo(
                kind=kind, namespaced=namespaced, verbs=VERBS
            )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._runner: aiohttp.web.ServerRunner | None = None
        asyncio.run_coroutine_threadsafe(self.handler.__aenter__(), self._loop).result(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        async def up() -> None:
            # aiohttp's low-level server directly: kmock.Server also patches aiohttp's
            # resolver globally, which several servers on one process cannot undo in any
            # order. A watch still open when the cluster goes away is cut after a second,
            # as a dead API server would (the default waits a minute for it to finish).
            server = aiohttp.web.Server(self.handler, handler_cancellation=True)
            runner = aiohttp.web.ServerRunner(server, shutdown_timeout=SHUTDOWN_SECONDS)
            await runner.setup()
            site = aiohttp.web.TCPSite(runner, "127.0.0.1", self.port)
            await site.start()
            self._runner = runner
            self.port = int(runner.addresses[0][1])

        asyncio.run_coroutine_threadsafe(up(), self._loop).result(10)

    def stop(self) -> None:
        async def down() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
                self._runner = None

        asyncio.run_coroutine_threadsafe(down(), self._loop).result(10)

    def close(self) -> None:
        self.stop()
        asyncio.run_coroutine_threadsafe(
            self.handler.__aexit__(None, None, None), self._loop
        ).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def writes(self) -> int:
        """How many requests that change something (not GET) the server has answered."""
        extra = getattr(self.handler, "_requests_put", 0)
        extra += getattr(self.handler, "_requests_delete_ns", 0)
        return extra + sum(1 for request in self.handler if request.method != "GET")

    def settle(self, timeout: float = 10.0) -> None:
        """Waits until no namespace is terminating (the cascade has run)."""
        deadline = time.monotonic() + timeout
        while any(
            (obj.get("metadata") or {}).get("deletionTimestamp")
            for (kind, _, _), obj in self.objects().items()
            if kind == "Namespace"
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: a namespace is still terminating")
            time.sleep(0.05)

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        message: str,
        *,
        times: int = 1,
        reason: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `times` requests of `method` whose path matches the pattern `path` are
        answered `status` with `message` (and `headers`) instead of being served."""
        self.handler.faults.append(
            Fault(
                method.upper(),
                re.compile(path),
                times,
                status,
                reason or str(status),
                message,
                headers or {},
            )
        )

    def edit(self, kind: str, namespace: str, name: str, change: dict[str, Any]) -> None:
        """Changes a stored object by hand, as `kubectl edit` would: `change` is merged in
        (lists replaced whole)."""
        for (resource, ns, n), obj in list(self.handler.objects.items()):
            here = (_KIND_OF.get(resource.plural or ""), ns or "", n) == (kind, namespace, name)
            if here and not obj.deleted:
                obj.patch(change)
                return
        raise KeyError((kind, namespace, name))

    def create(self, obj: dict[str, Any]) -> None:
        """Stores an object as someone other than Tongchou would have made it."""
        kind = obj["kind"]
        (resource,) = [r for r, (k, _) in RESOURCES.items() if k == kind]
        meta = obj["metadata"]
        self.handler.objects[resource, meta.get("namespace"), meta["name"]] = obj

    def objects(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """(kind, namespace, name) → the stored object, for everything not deleted."""
        out: dict[tuple[str, str, str], dict[str, Any]] = {}
        for (_resource, namespace, name), obj in list(self.handler.objects.items()):
            if obj.deleted:
                continue
            raw = dict(obj.raw)
            out[(str(raw.get("kind")), namespace or "", name)] = raw
        return out


def write_kubeconfig(path: Path, clusters: dict[str, str]) -> Path:
    """A kubeconfig with one context per (context name → server URL)."""
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": {"server": url}} for n, url in clusters.items()],
        "contexts": [{"name": n, "context": {"cluster": n, "user": "tongchou"}} for n in clusters],
        "users": [{"name": "tongchou", "user": {"token": "test-token"}}],
        "current-context": next(iter(clusters), ""),
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path
