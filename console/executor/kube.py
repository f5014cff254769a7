"""Reaching a cluster's Kubernetes API through a kubeconfig context, and naming what failed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import urllib3
from kubernetes import client, config

# Seconds to connect and to read one response; a cluster that is away costs no more.
ApiClient = client.ApiClient
"""A cluster's API client, as `connect` makes it (callers outside the executor name it so)."""

REQUEST_TIMEOUT = (3.0, 10.0)


class ClusterError(Exception):
    """Why a cluster's API could not be used. `kind` is one of: config (missing kubeconfig,
    unknown context: the user's to fix), unreachable, forbidden (RBAC), conflict, api."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    @property
    def user_error(self) -> bool:
        return self.kind in ("config", "forbidden")


@dataclass(frozen=True, slots=True)
class Target:
    """A cluster and the kubeconfig context that reaches it."""

    cluster: str
    context: str
    kubeconfig: Path


def connect(target: Target) -> client.ApiClient:
    """An API client for the target's context; ClusterError(config) says what is wrong."""
    path = target.kubeconfig
    if not path.is_file():
        raise ClusterError("config", f"kubeconfig {path} does not exist")
    try:
        contexts, _current = config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=str(path)
        )
    except Exception as err:  # YAML errors, missing keys: all mean a kubeconfig to fix
        raise ClusterError("config", f"kubeconfig {path} cannot be read: {err}") from None
    names = sorted(str(c.get("name")) for c in contexts or [])
    if target.context not in names:
        known = ", ".join(names) or "none"
        raise ClusterError(
            "config", f"context {target.context!r} is not in kubeconfig {path} (it has: {known})"
        )
    configuration = client.Configuration()
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(path),
            context=target.context,
            client_configuration=configuration,
            persist_config=False,
        )
    except Exception as err:  # a context naming a missing cluster or user, bad certificates
        raise ClusterError(
            "config", f"context {target.context!r} in kubeconfig {path} is unusable: {err}"
        ) from None
    configuration.retries = 0  # the executor's own backoff decides when to try again
    return client.ApiClient(configuration)


def server_of(api: client.ApiClient) -> str:
    return str(api.configuration.host)


def classify(err: Exception, api: client.ApiClient | None = None) -> ClusterError:
    """A ClusterError naming the cause of an exception raised by a call to the API."""
    if isinstance(err, ClusterError):
        return err
    where = f"API server {server_of(api)}" if api is not None else "API server"
    if isinstance(err, client.ApiException):
        status = int(err.status or 0)
        text = _message(err)
        if status in (401, 403):
            return ClusterError("forbidden", f"{where} refused access ({status}): {text}")
        if status == 409:
            return ClusterError("conflict", f"{where}: conflict: {text}")
        if status == 0:
            return ClusterError("unreachable", f"{where} is unreachable: {err.reason}")
        return ClusterError("api", f"{where} answered {status} {err.reason}: {text}")
    if isinstance(err, (urllib3.exceptions.HTTPError, OSError, TimeoutError)):
        reason = getattr(err, "reason", None) or err
        return ClusterError("unreachable", f"{where} is unreachable: {reason}")
    return ClusterError("api", f"{where}: {type(err).__name__}: {err}")


def _message(err: client.ApiException) -> str:
    try:
        body = json.loads(err.body or "{}")
    except (TypeError, ValueError):
        return str(err.body or err.reason)
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:300]
    return str(err.reason)
