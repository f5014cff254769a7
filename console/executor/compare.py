"""Whether a managed object in a cluster equals the wanted one, and what was added by hand.

The comparison is the executor's full definition of "equal": every field Tongchou sets must
hold the same value (quantities compared by amount, so `500M` equals `500000000` and `1k`
equals `1000`), and the pod template may hold nothing else but the fields the API server
fills in with their default values (`DEFAULTS`). Anything else (a volume, `hostNetwork`, a
privileged container, an extra environment variable) is drift: the object is replaced by
the wanted one. Drift that adds privilege is named so the hub can raise an alert.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from console.model.quantity import QuantityError, parse_bytes, parse_cpu

QUANTITY_KEYS = frozenset({"requests", "limits", "hard"})
# Fields the API server sets on a pod template when they are absent, with their defaults.
POD_DEFAULTS: dict[str, Any] = {
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "dnsPolicy": "ClusterFirst",
    "schedulerName": "default-scheduler",
    "securityContext": {},
}
CONTAINER_DEFAULTS: dict[str, Any] = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
    "imagePullPolicy": ("IfNotPresent", "Always"),
    "resources": {},
}
DEFAULTS = {"pod": POD_DEFAULTS, "container": CONTAINER_DEFAULTS}


def amount(text: object) -> Decimal | None:
    """A quantity's value (cores for a cpu-like quantity, units otherwise), or None."""
    try:
        return Decimal(parse_cpu(text)) / 1000
    except QuantityError:
        pass
    try:
        return Decimal(parse_bytes(text))
    except QuantityError:
        return None


def _same_quantities(have: Any, want: Any) -> bool:
    if not isinstance(have, dict) or set(have) != set(want):
        return False
    for key, value in want.items():
        a, b = amount(have[key]), amount(value)
        same = a == b if a is not None and b is not None else str(have[key]) == str(value)
        if not same:
            return False
    return True


def contains(have: Any, want: Any, key: str = "") -> bool:
    """Whether `have` holds everything in `want` (fields the server added elsewhere, such as
    status, do not count here; `extras` judges the pod template)."""
    if key in QUANTITY_KEYS and isinstance(want, dict):
        return _same_quantities(have, want)
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            k in have and contains(have[k], v, k) for k, v in want.items()
        )
    if isinstance(want, list):
        return (
            isinstance(have, list)
            and len(have) == len(want)
            and all(contains(h, w, key) for h, w in zip(have, want, strict=True))
        )
    return bool(have == want)


def _is_default(value: Any, default: Any) -> bool:
    if isinstance(default, tuple):
        return value in default
    return bool(value == default)


def extras(have: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """The fields of the pod template in `have` (a Deployment) that `want` does not set and
    that are not server defaults, as paths (`spec.template.spec.hostNetwork`)."""
    out: list[str] = []
    base = "spec.template.spec"
    pod_have = ((have.get("spec") or {}).get("template") or {}).get("spec") or {}
    pod_want = ((want.get("spec") or {}).get("template") or {}).get("spec") or {}
    for field, value in pod_have.items():
        if field == "containers" or field in pod_want:
            continue
        if field in POD_DEFAULTS and _is_default(value, POD_DEFAULTS[field]):
            continue
        out.append(f"{base}.{field}")
    wanted = {c.get("name"): c for c in pod_want.get("containers") or []}
    for container in pod_have.get("containers") or []:
        name = container.get("name")
        mine = wanted.get(name)
        if mine is None:
            out.append(f"{base}.containers[{name}]")
            continue
        for field, value in container.items():
            if field in mine:
                if field == "securityContext" and isinstance(value, dict):
                    out += [
                        f"{base}.containers[{name}].securityContext.{k}"
                        for k in value
                        if k not in mine[field]
                    ]
                continue
            if field in CONTAINER_DEFAULTS and _is_default(value, CONTAINER_DEFAULTS[field]):
                continue
            out.append(f"{base}.containers[{name}].{field}")
    return out


def privilege(have: dict[str, Any]) -> list[str]:
    """What in a Deployment's pod template gives more than Tongchou's pods are given: host
    namespaces, host paths, privileged or escalating containers, added capabilities, root."""
    pod = ((have.get("spec") or {}).get("template") or {}).get("spec") or {}
    found = [f"{k}: true" for k in ("hostNetwork", "hostPID", "hostIPC") if pod.get(k)]
    found += [
        f"hostPath volume {v.get('name')} ({(v.get('hostPath') or {}).get('path')})"
        for v in pod.get("volumes") or []
        if isinstance(v, dict) and "hostPath" in v
    ]
    if (pod.get("securityContext") or {}).get("runAsUser") == 0:
        found.append("pod runAsUser: 0")
    for c in (pod.get("containers") or []) + (pod.get("initContainers") or []):
        ctx = c.get("securityContext") or {}
        name = c.get("name")
        if ctx.get("privileged"):
            found.append(f"container {name} privileged")
        if ctx.get("allowPrivilegeEscalation"):
            found.append(f"container {name} allowPrivilegeEscalation")
        if ctx.get("runAsUser") == 0:
            found.append(f"container {name} runAsUser: 0")
        added = (ctx.get("capabilities") or {}).get("add") or []
        if added:
            found.append(f"container {name} adds capabilities {', '.join(map(str, added))}")
    return found
