"""Kubernetes API emulators (kmock's KubernetesEmulator) on loopback, one per cluster.

Each runs its own event loop on a thread, so the synchronous official client can call it
from anywhere; `stop()` closes the port (the cluster is away) and `start()` opens it again
on the same port with the objects it held.
"""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path
from typing import Any

import aiohttp.web
import kmock
import yaml
from aiohttp.test_utils import RawTestServer

# kmock 0.8 reads `/api/v1/namespaces[/<name>]` as a namespaced path with no resource; the
# shim serves the Namespace resource under a path it parses (a cluster-scoped resource).
_NAMESPACES = re.compile(r"^/api/v1/namespaces(/[^/]+)?/?$")
_ALIAS = "/apis/emulated.tongchou.io/v1/clusternamespaces"
RESOURCES = (
    "emulated.tongchou.io/v1/clusternamespaces",
    "v1/resourcequotas",
    "apps/v1/deployments",
)


class Emulator(kmock.KubernetesEmulator):
    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        match = _NAMESPACES.match(raw_request.rel_url.path)
        if match:
            url = raw_request.rel_url.with_path(_ALIAS + (match.group(1) or ""))
            raw_request = raw_request.clone(rel_url=url)
        return await super().__call__(raw_request)


class EmulatedCluster:
    """One emulated API server on 127.0.0.1; `objects()` reads what it holds."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = 0
        self.handler = Emulator()
        for resource in RESOURCES:
            self.handler.resources[resource] = kmock.ResourceInfo()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: RawTestServer | None = None
        asyncio.run_coroutine_threadsafe(self.handler.__aenter__(), self._loop).result(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        async def up() -> None:
            # aiohttp's raw server directly: kmock.Server also patches aiohttp's resolver
            # globally, which several servers on one process cannot undo in any order.
            server = RawTestServer(self.handler, host="127.0.0.1", port=self.port or None)
            await server.start_server()
            self._server = server
            self.port = int(server.port or 0)

        asyncio.run_coroutine_threadsafe(up(), self._loop).result(10)

    def stop(self) -> None:
        async def down() -> None:
            if self._server is not None:
                await self._server.close()
                self._server = None

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
        return sum(1 for request in self.handler if request.method != "GET")

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
