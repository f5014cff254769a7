"""What an API call concerns, for its audit record: `workload/gz-portal`, `node/tianhe-01`,
`plan/3`, `user/li.na`; the method itself when the request names nothing."""

from __future__ import annotations

import re
from typing import Any

_VERBS = re.compile(
    r"^(Get|List|Submit|Scale|Delete|Explain|Run|Create|Grant|Approve|Export|Verify|Check)"
)
# metadata.name of the first document, in block or flow style, without parsing the YAML
_NAME = re.compile(r"metadata:\s*\{?\s*(?:#[^\n]*)?\s*name:\s*[\"']?([A-Za-z0-9._@-]{1,253})")
_SCAN = 64 * 1024


def _noun(method: str) -> str:
    """'/tongchou.v1.WorkloadService/DeleteWorkload' → 'workload'; ListNodes → 'node'."""
    name = _VERBS.sub("", method.rpartition("/")[2])
    noun = name.lower()
    if noun.endswith("ies"):
        return noun[:-3] + "y"
    return noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else noun


def _field(message: Any, field: str) -> str:
    try:
        value = getattr(message, field)
    except AttributeError:
        return ""
    return str(value) if value not in ("", 0, None) else ""


def object_of(method: str, request: Any, response: Any = None) -> str:
    """The object of a call, from its response (a workload's status) or its request."""
    noun = _noun(method)
    if "/tongchou.v1.UserService/" in method:
        noun = "change" if method.endswith("/ApproveChange") else "user"
    if method.endswith("/SubmitWorkload"):
        name = _field(response, "name") if response is not None else ""
        if not name:
            found = _NAME.search(_field(request, "yaml")[:_SCAN])
            name = found.group(1) if found else "?"
        return f"workload/{name}"
    if method.endswith("/RunPlan"):
        return "plan/new"
    for field in ("name", "node", "id", "cluster", "site", "division", "code"):
        value = _field(request, field)
        if value:
            kind = noun if field in ("name", "id") else field
            return f"{kind}/{value[:253]}"
    return method
