"""Agent settings from a YAML file, TONGCHOU_* environment variables and flags, in that order."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from tongchou import durations
from tongchou.divisions import DivisionCodeError, Level, level_of
from tongchou.targets import split_addresses

DEFAULT_HUB = "127.0.0.1:7470"
DEFAULT_METRICS = "0.0.0.0:9471"
_LABEL_KEY = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$")


class ConfigError(ValueError):
    """A setting that is missing or wrong; the message says which and where it came from."""


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """Everything the agent needs to run; `where` records the source of each setting."""

    hub: str = DEFAULT_HUB
    node: str = ""
    division: str = ""
    level: str = ""
    site: str = ""
    cluster: str = ""
    provider: str = ""
    mlps_level: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    interval: float = 10.0
    metrics_listen: str = DEFAULT_METRICS
    # Where the host's file system is seen: "/" on a host, "/host" in a container that
    # mounts the host's /proc at /host/proc and its os-release at /host/etc/os-release.
    host_root: str = "/"
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    insecure: bool = False
    join_token: str = ""
    join_hub: str = ""
    # a DNS domain whose SRV records _tongchou-relay._tcp.<domain> name this site's relays:
    # tried first, the hub when none answers; relay_dns asks that server (host:port) instead of
    # the system's resolvers
    relay_srv: str = ""
    relay_dns: str = ""
    # which gRPC library speaks to the hub: auto (h2 when installed, else grpcio),
    # h2 (pure Python) or grpcio
    transport: str = "auto"
    renew_check: float = 60.0  # how often the certificate's age is checked (renewCheck)
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    where: Mapping[str, str] = field(default_factory=dict)

    def require_identity(self) -> None:
        """Raises ConfigError unless the labels the hub needs are set."""
        missing = [
            name for name in ("division", "site", "cluster", "provider") if not getattr(self, name)
        ]
        if self.mlps_level == 0:
            missing.append("mlps_level")
        if missing:
            raise ConfigError(
                "missing agent settings: "
                + ", ".join(missing)
                + " (set them in the config file, as TONGCHOU_<NAME> variables, or as flags)"
            )

    def require_transport(self) -> None:
        """Raises ConfigError unless mutual TLS is set up, or plaintext explicitly asked for."""
        tls = [self.tls_ca, self.tls_cert, self.tls_key]
        if self.insecure and any(tls):
            raise ConfigError("insecure and tls_ca/tls_cert/tls_key exclude each other")
        if not self.insecure and not all(tls):
            raise ConfigError(
                "the hub needs mutual TLS: set tls_ca, tls_cert and tls_key (flags --tls-ca, "
                "--tls-cert, --tls-key), or insecure (--insecure) for plaintext"
            )


# Settings, their YAML key and their environment variable.
_KEYS: dict[str, tuple[str, str]] = {
    "hub": ("hub", "TONGCHOU_HUB"),
    "node": ("node", "TONGCHOU_NODE"),
    "division": ("division", "TONGCHOU_DIVISION"),
    "level": ("level", "TONGCHOU_LEVEL"),
    "site": ("site", "TONGCHOU_SITE"),
    "cluster": ("cluster", "TONGCHOU_CLUSTER"),
    "provider": ("provider", "TONGCHOU_PROVIDER"),
    "mlps_level": ("mlpsLevel", "TONGCHOU_MLPS_LEVEL"),
    "labels": ("labels", "TONGCHOU_LABELS"),
    "interval": ("interval", "TONGCHOU_INTERVAL"),
    "metrics_listen": ("metricsListen", "TONGCHOU_METRICS_LISTEN"),
    "host_root": ("hostRoot", "TONGCHOU_HOST_ROOT"),
    "tls_ca": ("tlsCa", "TONGCHOU_TLS_CA"),
    "tls_cert": ("tlsCert", "TONGCHOU_TLS_CERT"),
    "tls_key": ("tlsKey", "TONGCHOU_TLS_KEY"),
    "insecure": ("insecure", "TONGCHOU_INSECURE"),
    "join_token": ("joinToken", "TONGCHOU_JOIN_TOKEN"),
    "join_hub": ("joinHub", "TONGCHOU_JOIN_HUB"),
    "relay_srv": ("relaySrv", "TONGCHOU_RELAY_SRV"),
    "relay_dns": ("relayDns", "TONGCHOU_RELAY_DNS"),
    "transport": ("transport", "TONGCHOU_TRANSPORT"),
    "renew_check": ("renewCheck", "TONGCHOU_RENEW_CHECK"),
}
TRANSPORTS = ("auto", "h2", "grpcio")


def parse_duration(value: object, where: str) -> float:
    """Seconds from 10, 2.5, "10s", "500ms", "1m" or "1h" (50ms to 1h)."""
    try:
        return durations.parse_duration(value, where, high=3600)
    except durations.DurationError as err:
        raise ConfigError(str(err)) from None


def parse_labels(value: object, where: str) -> dict[str, str]:
    """Labels from a mapping, or from "k=v,k2=v2" text."""
    if isinstance(value, str):
        pairs: dict[str, object] = {}
        for item in filter(None, (p.strip() for p in value.split(","))):
            key, sep, val = item.partition("=")
            if not sep:
                raise ConfigError(f"{where}: label {item!r} is not key=value")
            pairs[key.strip()] = val.strip()
        value = pairs
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: labels must be a mapping of key: value")
    out: dict[str, str] = {}
    for key, val in value.items():
        if not isinstance(key, str) or not _LABEL_KEY.match(key):
            raise ConfigError(f"{where}: label key {key!r} is not a valid label key")
        if isinstance(val, Mapping | list) or val is None:
            raise ConfigError(f"{where}: label {key!r} must have a plain value")
        text = str(val)
        if len(text) > 253:
            raise ConfigError(f"{where}: label {key!r} is longer than 253 characters")
        out[key] = text
    return out


def _coerce(name: str, value: object, where: str) -> Any:
    if name in ("interval", "renew_check"):
        return parse_duration(value, where)
    if name == "labels":
        return parse_labels(value, where)
    if name == "insecure":
        text = str(value).strip().lower()
        if text not in {"true", "false", "1", "0", "yes", "no"}:
            raise ConfigError(f"{where}: insecure must be true or false, got {value!r}")
        return text in {"true", "1", "yes"}
    if name == "mlps_level":
        try:
            number = int(str(value))
        except ValueError:
            raise ConfigError(f"{where}: mlps level must be 1 to 4, got {value!r}") from None
        if not 1 <= number <= 4:
            raise ConfigError(f"{where}: mlps level must be 1 to 4, got {value!r}")
        return number
    if isinstance(value, Mapping | list) or value is None:
        raise ConfigError(f"{where}: expected a plain value, got {value!r}")
    return str(value).strip()


def read_file(path: str | os.PathLike[str]) -> dict[str, tuple[object, str]]:
    """Settings from a YAML config file, each with where it came from."""
    from agent import yamlfile  # PyYAML runs in a helper process, never in the daemon

    path = os.fspath(path)
    try:
        data = yamlfile.read(path)
    except yamlfile.YamlFileError as err:
        raise ConfigError(f"{path}: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: the config file must be a mapping of settings")
    by_key = {key: name for name, (key, _env) in _KEYS.items()}
    out: dict[str, tuple[object, str]] = {}
    for key, value in data.items():
        if key not in by_key:
            known = ", ".join(sorted(by_key))
            raise ConfigError(f"{path}: unknown setting {key!r} (known: {known})")
        out[by_key[key]] = (value, f"{path}: {key}")
    return out


def read_env(environ: Mapping[str, str]) -> dict[str, tuple[object, str]]:
    """Settings from TONGCHOU_* environment variables."""
    return {
        name: (environ[env], f"environment {env}")
        for name, (_key, env) in _KEYS.items()
        if environ.get(env)
    }


def build(
    *,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, tuple[object, str]] | None = None,
) -> AgentConfig:
    """Merges file < environment < flags over the defaults, and validates the result."""
    merged: dict[str, tuple[object, str]] = {}
    if config_file is not None:
        merged.update(read_file(config_file))
    merged.update(read_env(os.environ if environ is None else environ))
    merged.update(flags or {})
    values: dict[str, Any] = {}
    where: dict[str, str] = {}
    labels: dict[str, str] = {}
    for name, (value, source) in merged.items():
        if name == "labels":
            labels.update(_coerce(name, value, source))
        else:
            values[name] = _coerce(name, value, source)
        where[name] = source
    config = AgentConfig(**values, labels=labels, where=where)
    if not config.node:
        config = replace(config, node=socket.gethostname())
    return _validate(config)


def _validate(config: AgentConfig) -> AgentConfig:
    def at(name: str) -> str:
        return config.where.get(name, "default")

    if config.division:
        try:
            derived = level_of(config.division)
        except DivisionCodeError as err:
            raise ConfigError(f"{at('division')}: {err}") from None
        if config.level and config.level != derived.value:
            raise ConfigError(
                f"{at('level')}: level {config.level!r} does not match division "
                f"{config.division}, which is a {derived.value}"
            )
        config = replace(config, level=derived.value)
    elif config.level and config.level not in {lvl.value for lvl in Level}:
        raise ConfigError(f"{at('level')}: unknown level {config.level!r}")
    try:
        split_addresses(config.hub)  # one hub, or several replicas: "hub-a:7470,hub-b:7470"
    except ValueError as err:
        raise ConfigError(f"{at('hub')}: {err}") from None
    if config.join_hub and ":" not in config.join_hub:
        raise ConfigError(f"{at('join_hub')}: join address {config.join_hub!r} must be host:port")
    if config.relay_dns and not config.relay_srv:
        raise ConfigError(f"{at('relay_dns')}: relay_dns needs relay_srv (the domain to look up)")
    if config.relay_dns:
        try:
            split_addresses(config.relay_dns)
        except ValueError as err:
            raise ConfigError(f"{at('relay_dns')}: DNS server: {err}") from None
    if config.join_token and (config.insecure or not config.tls_cert):
        raise ConfigError(
            f"{at('join_token')}: joining needs tls_ca, tls_cert and tls_key (where the "
            "certificate and key are written), not insecure"
        )
    if config.transport not in TRANSPORTS:
        raise ConfigError(
            f"{at('transport')}: unknown transport {config.transport!r} "
            f"(one of {', '.join(TRANSPORTS)})"
        )
    if config.metrics_listen and ":" not in config.metrics_listen:
        raise ConfigError(
            f"{at('metrics_listen')}: {config.metrics_listen!r} must be host:port, or empty"
        )
    if not config.host_root.startswith("/"):
        raise ConfigError(f"{at('host_root')}: host root {config.host_root!r} must be absolute")
    if not os.path.isfile(os.path.join(config.host_root, "proc", "stat")):
        raise ConfigError(
            f"{at('host_root')}: {os.path.join(config.host_root, 'proc')} is not a proc file system"
            " (mount the host's /proc there)"
        )
    for name in ("node", "site", "cluster", "provider"):
        text = getattr(config, name)
        if len(text) > 253:
            raise ConfigError(f"{at(name)}: {name} is longer than 253 characters")
    return config


def setting_names() -> tuple[str, ...]:
    """Names of the settings, as AgentConfig fields."""
    return tuple(f.name for f in fields(AgentConfig) if f.name in _KEYS)
