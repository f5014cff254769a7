"""A stored workload document with another replica count, the rest of its text kept as is."""

from __future__ import annotations

import yaml


class NotScalable(ValueError):
    """The stored text has no Workload document whose `spec` is a mapping."""


def with_replicas(text: str, replicas: int) -> str:
    """`text` with the Workload's `spec.replicas` set to `replicas`. Only the value's characters
    change (comments, order and quoting of everything else stay); a spec without the field
    gets it as its first entry."""
    for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
        if not isinstance(document, yaml.MappingNode):
            continue
        kind = _get(document, "kind")
        if not isinstance(kind, yaml.ScalarNode) or kind.value != "Workload":
            continue
        spec = _get(document, "spec")
        if not isinstance(spec, yaml.MappingNode):
            break
        value = _get(spec, "replicas")
        if value is not None:
            start, end = value.start_mark.index, value.end_mark.index
            return text[:start] + str(replicas) + text[end:]
        if spec.flow_style or not spec.value:
            break
        first = spec.value[0][0]
        indent = " " * first.start_mark.column
        at = first.start_mark.index
        return text[:at] + f"replicas: {replicas}\n{indent}" + text[at:]
    raise NotScalable("the stored document has no Workload with a block-style spec to scale")


def _get(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    for k, v in mapping.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.Node):
            return v
    return None
