"""The CLI's messages meant for operators, in English or Chinese (`--lang`, default from the
locale): the summary lines of `validate`, `schedule`, `plan`, `policy check` and `workload`
(and, from `tongchou.opsmsg`, of the service and administration commands),
their error lines' fixed parts and the frame of a document error (`document 3 (Workload x)`).
Paths, lines, field paths and values stay as they are; the message of a document error (what
the field's check says) stays English. The gettext context of each message is `cli:<key>`."""

from __future__ import annotations

from tongchou import opsmsg
from tongchou.i18n import translated

MESSAGES: dict[str, str] = {
    # a document error's frame (console/documents/errors.py)
    "document": "document {n}",
    "document_of": "document {n} ({label})",
    "more_errors": "... and {n} more errors",
    # validate
    "valid": "valid: {n} documents ({listed})",
    "valid_fleet": "fleet: {divisions} divisions, {sites} sites, {clusters} clusters, "
    "{nodes} nodes",
    "undeclared_hint": "hint: documents refer to divisions, sites or clusters that none of the "
    "files given declares; validate them together with the fleet, e.g. "
    "tongchou validate examples/guangdong (its subfolders are read too)",
    # schedule (and apply, which reads the same inputs)
    "no_workloads": "no Workload documents in --workloads",
    "scheduled": "{n} workloads: {placed} of {wanted} replicas placed, {stuck} workloads with "
    "pending replicas",
    "assumed": "assumed (offline):",
    # plan
    "csv_showback": "-o csv is for --showback only",
    "cannot_write": "cannot write {path}: {error}",
    "wrote": "wrote {paths}",
    # policy check
    "not_policies": "not policies: {kinds} documents",
    "policies_valid": "{n} policies valid; in force with them: {rails} built-in compliance "
    "guardrails",
    "policies_replaced": " ({n} replaced by yours)",
    "source_guardrail": "built-in guardrail",
    "source_replaces": "given, replaces one",
    "source_given": "given",
    # workload
    "deleted": "deleted {name}",
    "now": "  now: {summary}",
    "every_candidate": "every cluster is a candidate",
    "removed_by": "removed by {policy}: {reason}",
    "pending": "[{n} pending: {reason}]",
    # hub, agent, relay, simulate, demo, console, apply, report, sample, ca, user, token, audit
    **opsmsg.MESSAGES,
}
"""Each message by key, in English, `{field}`s where values go."""


def sources() -> list[tuple[str, str]]:
    """(context, English) of every CLI message: what the catalogs translate."""
    return [(f"cli:{key}", english) for key, english in MESSAGES.items()]


def say(lang: str, key: str, **values: object) -> str:
    """The message `key` in `lang` (English where the catalog has no translation)."""
    english = MESSAGES[key]
    found = translated(lang, f"cli:{key}", english) or english
    return found.format(**values) if values else found
