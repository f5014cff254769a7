"""The operator messages of the service and administration commands (hub, agent, relay,
simulate, demo, console, apply, report, sample, ca, user, token, audit), and the shapes of the
errors their flags' checks raise, so a message composed in English is shown in Chinese.

Messages are said with `tongchou.climsg.say` (context `cli:<key>`). An error raised below the
command line keeps its English text (the hub's log shows it too); `error()` translates it by
the shapes of context `cli-error`, values (paths, flags, numbers) kept as they are."""

from __future__ import annotations

from tongchou.i18n import translate_composed

ERROR_CONTEXT = "cli-error"

MESSAGES: dict[str, str] = {
    # shared frames
    "documents_invalid": "the documents are invalid:\n{errors}",
    "fleet_invalid": "the fleet documents are invalid:\n{errors}",
    "policies_invalid": "the policy documents are invalid:\n{errors}",
    "catalog_invalid": "the catalog documents are invalid:\n{errors}",
    "cannot_write_log": "cannot write --log-file {path}: {error}",
    # agent
    "agent_join_failed": "joining at {where} failed: {error}",
    "agent_cannot_listen": "{where}: cannot listen on {address}: {error}",
    # ca
    "ca_created": "CA created: {cert} (keep {keyfile} secret)",
    "ca_issued": "issued {kind} certificate for {name}: {cert} and {keyfile}",
    "ca_revoked_all": "revoked every certificate of {kind} {name}, with every renewal of it",
    "ca_revoked_one": "revoked the {kind} certificate of {name} (serial {serial}, lineage "
    "{lineage}), with every renewal of it",
    # user
    "user_all_divisions": "(all)",
    "user_no_such": "no user {name}",
    "user_code_written": "enrolment code for {name} written to {path}",
    # audit
    "audit_pruned": "pruned {n} records older than {months} months",
    "audit_ok": "audit log OK: {n} records, head {seq} {head}",
    "audit_broken": "audit log BROKEN: {problem}",
    "audit_broken_at": "audit log BROKEN at record {seq}: {problem}",
    "audit_witness_exists": "{path} exists; it is not replaced",
    "audit_chain_broken": "the chain is broken ({problem}); not resetting",
    "audit_new_witness": "new witness {path} from record {seq}",
    # apply
    "apply_no_context": "no Cluster names a kubeContext; nothing can be applied",
    "apply_pending": "{workload}: {n} replicas pending: {reason}",
    "apply_no_context_for": "{workload}: placed in {clusters}, which name no kubeContext",
    "apply_written": "{cluster}: {n} objects written to {path}",
    "apply_cannot_write": "cannot write manifests: {error}",
    "apply_alert": "{cluster}: ALERT: {line}",
    # report
    "report_hub_failed": "the hub at {hub}: {error}",
    "report_wrote": "wrote {path}",
    # simulate
    "simulate_negative_limit": "--limit must not be negative",
    "simulate_no_nodes": "the fleet has no nodes",
    "simulate_started": "simulating {n} nodes against {hub}",
    "simulate_stats": "{elapsed}s  streams {connected}/{n}  reports {reports}  acks {acks}  "
    "rejected {rejected}  failures {failures}",
    # console
    "console_no_terminal": "needs a terminal (stdin and stdout are not one); for a script use "
    "`tongchou workload list` or the hub's /metrics",
    # sample
    "sample_exists": "{path} exists; name a new folder",
    "sample_wrote": "wrote the sample Guangdong province to {fleet} and the default policies to "
    "{policies}; try:",
    # demo
    "demo_cannot_write": "cannot write {path}: {error}",
    "demo_loading": "loading the fleet ({paths})…",
    "demo_cannot_read_workloads": "cannot read the workloads: {error}",
    "demo_ca": "{n} nodes; setting up the demo's CA in {path}…",
    "demo_cannot_ca": "cannot set up the demo's CA: {error}",
    "demo_starting_hub": "starting the hub on {address} (store {store})…",
    "demo_cannot_start_hub": "cannot start the hub: {error}",
    "demo_starting_agents": "hub on {address}; starting {n} simulated agents…",
    "demo_banner": "Tongchou demo: hub on {address} (mutual TLS, CA in {ca}; metrics :{port}), "
    "store {store}, {n} simulated nodes",
    "demo_banner_agent": " + this machine's agent",
    "demo_attach": "A second console: {command}",
    "demo_submitting": "submitting {n} workloads…",
    "demo_opening": "opening the console…",
    "demo_stopped": "demo stopped; the store keeps the inventory for next time",
    "demo_starting_prometheus": "starting Prometheus on {address}…",
    "demo_prometheus": "Prometheus on {url} scrapes the hub every {interval} with the chart's "
    "rules; history: add --prometheus {url} to the console command",
    "demo_fleet_line": "{nodes} nodes in {clusters} clusters, {sites} sites, {divisions} "
    "divisions · {rate} reports/s · interval {interval}s",
    "demo_head_level": "level",
    "demo_head_ready": "ready",
    "demo_head_stale": "stale",
    "demo_head_lost": "lost",
    "demo_head_cpu": "cpu used/cores",
    "demo_head_memory": "memory used/total",
    "demo_total": "total",
    "demo_workloads": "workloads: {n}, {full} placed in full",
    "demo_waiting": "  {name}: {placed}/{replicas} placed; {pending} pending: {reason}",
}
"""Each message by key (merged into `tongchou.climsg.MESSAGES`), in English."""

ERRORS: tuple[str, ...] = (
    # numbers and durations (tongchou/durations.py and the flags' checks)
    "{flag} must be positive, got {value}",
    "{flag} must be at least 1, got {value}",
    "{where}: expected a duration such as 10s, got {value}",
    "{where}: expected a duration such as 10s or 1m, got {value}",
    "{where}: duration {value} must lie between {low} and {high}",
    # documents given where policies are expected
    "--policies holds {kinds} documents, not only policies",
    # certificates and TLS (console/security)
    "--host applies only to --kind hub or relay",
    "--kind user needs --store: a user certificate is bound to the account",
    "--name {name}: no such user in {store}",
    "{flag} {path}: cannot read: {error}",
    "{path}: cannot read: {error}",
    "{flag} {path}: not a PEM file",
    "{flag} {path}: no such file",
    "--serial {serial}: not a hexadecimal serial",
    "--serial {serial}: no certificate with this serial in {store}; revoke by --node or --user",
    "a bearer token is sent only over TLS: give --tls-ca, not --insecure",
    "--insecure and --tls-* exclude each other",
    "--insecure and --tls-ca/--tls-cert/--tls-key exclude each other",
    "mutual TLS needs all three of --tls-ca, --tls-cert and --tls-key",
    "the hub speaks mutual TLS: give --tls-ca, --tls-cert and --tls-key (`tongchou demo` prints "
    "its own), or --insecure for a plaintext hub on loopback",
    # Prometheus (console, report)
    "--prometheus {url}: give an http:// or https:// URL, e.g. http://127.0.0.1:9090",
    "--prometheus {url}: give an http:// or https:// URL",
    "--prometheus {url}: TLS options need an https:// URL",
    "--prometheus-cert and --prometheus-key go together",
    "{flag} needs --prometheus URL",
    "give --tls-ca, --tls-cert and --tls-key (or --insecure)",
    "--audit-retention-months must be at least {months} (MLPS level 3 keeps logs six months), "
    "got {value}",
    "--token-listen needs TLS: it cannot be used with --insecure",
    "--metrics-tls-cert and --metrics-tls-key go together",
    "--metrics-client-ca needs --metrics-tls-cert and --metrics-tls-key",
    "--enrol-delivery {path}: not a directory",
    "--health-listen {value}: expected host:port",
    # join tokens
    "{given} given without {missing}: give all three or none",
    "--division: {error}",
    "--{flag}: {value} must be 1-253 letters, digits, '.', '_', '@' or '-'",
    # the agent's settings (agent/config.py)
    "missing agent settings: {names} (set them in the config file, as TONGCHOU_<NAME> "
    "variables, or as flags)",
    "insecure and tls_ca/tls_cert/tls_key exclude each other",
    "the hub needs mutual TLS: set tls_ca, tls_cert and tls_key (flags --tls-ca, --tls-cert, "
    "--tls-key), or insecure (--insecure) for plaintext",
    "{where}: mlps level must be 1 to 4, got {value}",
    "{where}: label {item} is not key=value",
    "{where}: unknown level {level}",
    "{where}: level {level} does not match division {division}, which is a {derived}",
    "{where}: {value} must be host:port, or empty",
    "{path}: unknown setting {key} (known: {known})",
    # relay
    "--tls-cert {path}: a {kind} certificate, not a relay's",
    "--site {site} is not the certificate's site ({name})",
    "--site is required with --insecure",
    # starting a hub (console/hub)
    "cannot listen on {address}",
    "cannot serve /metrics on {address} (--metrics-listen): {error}",
    "the token port needs TLS (--tls-*)",
    # apply's outcome per cluster (console/executor/outcome.py), its parts joined by ", "
    "{n} created",
    "{n} updated",
    "{n} unchanged",
    "{n} deleted",
    "{n} refused",
    "{n} waiting",
    "{n} foreign",
    "{n} kept",
    "error ({kind}): {message}",
    # the demo's Prometheus (console/demo_prometheus.py)
    "Prometheus is not installed ({hint}): the console shows no history",
    "Prometheus did not start on {address} (its log: {log}): the console shows no history",
    # the store, apply, report, audit
    "{path}: no such store file (start the hub once to create it)",
    "--identity: {error}",
    "-o {path}: the report is written as .pdf or .html",
    "--retention-months: {error}",
    "audit retention must be at least {least} months, got {months}",
    "--deliver {path}: {error}",
)
"""English shapes of the errors the commands' checks raise (and of apply's outcome per
cluster, composed below the command line too); `{field}` is any value."""


def sources() -> list[tuple[str, str]]:
    """(context, English) of the error shapes (the messages come with climsg's)."""
    return [(ERROR_CONTEXT, shape) for shape in ERRORS]


def error(lang: str, err: object) -> str:
    """`err`'s message in `lang`: the fixed words of a known shape translated, values kept."""
    return translate_composed(lang, str(err), ERROR_CONTEXT)
