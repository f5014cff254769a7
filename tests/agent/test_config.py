"""Tests for agent.config: file < environment < flags, validation, and where errors came from."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from agent.config import (
    DEFAULT_HUB,
    AgentConfig,
    ConfigError,
    build,
    parse_labels,
    setting_names,
)

IDENTITY = {
    "TONGCHOU_DIVISION": "440106",
    "TONGCHOU_SITE": "tianhe-dc1",
    "TONGCHOU_CLUSTER": "gov-a",
    "TONGCHOU_PROVIDER": "on-prem",
    "TONGCHOU_MLPS_LEVEL": "3",
}


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_with_nothing_set() -> None:
    config = build(environ={})
    assert config.hub == DEFAULT_HUB
    assert config.interval == 10.0
    assert config.labels == {}
    assert config.where == {}
    assert config.level == ""


def test_node_defaults_to_host_name() -> None:
    assert build(environ={}).node == socket.gethostname()
    assert build(environ={"TONGCHOU_NODE": "n1"}).node == "n1"


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    path = _file(tmp_path, "site: from-file\ncluster: file-cluster\nprovider: file-prov\n")
    config = build(
        config_file=path,
        environ={"TONGCHOU_SITE": "from-env", "TONGCHOU_CLUSTER": "env-cluster"},
        flags={"site": ("from-flag", "flag --site")},
    )
    assert config.site == "from-flag"
    assert config.cluster == "env-cluster"
    assert config.provider == "file-prov"
    assert config.where["site"] == "flag --site"
    assert config.where["cluster"] == "environment TONGCHOU_CLUSTER"
    assert config.where["provider"] == f"{path}: provider"


def test_empty_environment_value_is_ignored(tmp_path: Path) -> None:
    path = _file(tmp_path, "site: from-file\n")
    config = build(config_file=path, environ={"TONGCHOU_SITE": ""})
    assert config.site == "from-file"


def test_file_error_names_path_and_key(tmp_path: Path) -> None:
    path = _file(tmp_path, "interval: soon\n")
    with pytest.raises(ConfigError) as info:
        build(config_file=path, environ={})
    assert str(info.value).startswith(f"{path}: interval: ")
    assert "'soon'" in str(info.value)


def test_env_error_names_variable() -> None:
    with pytest.raises(ConfigError, match=r"^environment TONGCHOU_MLPS_LEVEL: mlps level"):
        build(environ={"TONGCHOU_MLPS_LEVEL": "five"})


def test_flag_error_names_flag() -> None:
    with pytest.raises(ConfigError, match=r"^flag --interval: duration '2h' must lie between"):
        build(environ={}, flags={"interval": ("2h", "flag --interval")})


def test_unknown_key_in_file(tmp_path: Path) -> None:
    path = _file(tmp_path, "site: a\nintervall: 10s\n")
    with pytest.raises(ConfigError, match="unknown setting 'intervall'") as info:
        build(config_file=path, environ={})
    assert str(info.value).startswith(f"{path}: ")
    assert "mlpsLevel" in str(info.value)


def test_file_not_a_mapping_and_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be a mapping"):
        build(config_file=_file(tmp_path, "- a\n- b\n"), environ={})
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="cannot read config file") as info:
        build(config_file=missing, environ={})
    assert str(missing) in str(info.value)


def test_file_camel_case_keys(tmp_path: Path) -> None:
    path = _file(tmp_path, "mlpsLevel: 2\nmetricsListen: '127.0.0.1:9000'\ninterval: 1m\n")
    config = build(config_file=path, environ={})
    assert config.mlps_level == 2
    assert config.metrics_listen == "127.0.0.1:9000"
    assert config.interval == 60.0


@pytest.mark.parametrize(
    ("division", "level"),
    [("440106", "county"), ("440100", "city"), ("440000", "province"), ("440106001", "township")],
)
def test_level_derived_from_division(division: str, level: str) -> None:
    assert build(environ={"TONGCHOU_DIVISION": division}).level == level


def test_matching_level_is_accepted() -> None:
    config = build(environ={"TONGCHOU_DIVISION": "440106", "TONGCHOU_LEVEL": "county"})
    assert config.level == "county"


def test_mismatching_level_rejected() -> None:
    with pytest.raises(ConfigError) as info:
        build(
            environ={"TONGCHOU_DIVISION": "440106"},
            flags={"level": ("city", "flag --level")},
        )
    assert str(info.value) == (
        "flag --level: level 'city' does not match division 440106, which is a county"
    )


def test_bad_division_names_source() -> None:
    with pytest.raises(ConfigError, match=r"^environment TONGCHOU_DIVISION: '44010' is not"):
        build(environ={"TONGCHOU_DIVISION": "44010"})


def test_unknown_level_without_division() -> None:
    with pytest.raises(ConfigError, match="unknown level 'village'"):
        build(environ={"TONGCHOU_LEVEL": "village"})


def test_hub_must_be_host_port() -> None:
    with pytest.raises(ConfigError, match=r"^flag --hub: hub address 'hub\.local' must be"):
        build(environ={}, flags={"hub": ("hub.local", "flag --hub")})


def test_labels_from_text() -> None:
    config = build(environ={"TONGCHOU_LABELS": "rack=a3, zone = south ,,"})
    assert config.labels == {"rack": "a3", "zone": "south"}
    assert config.where["labels"] == "environment TONGCHOU_LABELS"


def test_labels_from_mapping_in_file(tmp_path: Path) -> None:
    path = _file(tmp_path, "labels:\n  rack: a3\n  gpu: 2\n")
    assert build(config_file=path, environ={}).labels == {"rack": "a3", "gpu": "2"}


def test_labels_flag_overrides_env() -> None:
    config = build(
        environ={"TONGCHOU_LABELS": "rack=a3"},
        flags={"labels": ("zone=north", "flag --labels")},
    )
    assert config.labels == {"zone": "north"}


def test_label_without_equals() -> None:
    with pytest.raises(ConfigError, match=r"^flag --labels: label 'rack' is not key=value"):
        parse_labels("zone=a,rack", "flag --labels")


@pytest.mark.parametrize("key", ["-rack", "rack-", "ra ck", "", "a" * 64, "机房"])
def test_bad_label_keys(key: str) -> None:
    with pytest.raises(ConfigError, match="is not a valid label key") as info:
        parse_labels({key: "v"}, "here")
    assert str(info.value).startswith("here: ")


def test_label_values_must_be_plain_and_short() -> None:
    with pytest.raises(ConfigError, match="label 'a' must have a plain value"):
        parse_labels({"a": {"b": 1}}, "x")
    with pytest.raises(ConfigError, match="label 'a' is longer than 253"):
        parse_labels({"a": "v" * 254}, "x")
    with pytest.raises(ConfigError, match="labels must be a mapping"):
        parse_labels(["a"], "x")


@pytest.mark.parametrize("value", ["0", "5", "-1", "x", "2.5"])
def test_mlps_level_outside_range(value: str) -> None:
    with pytest.raises(ConfigError, match=f"mlps level must be 1 to 4, got '{value}'"):
        build(environ={"TONGCHOU_MLPS_LEVEL": value})


@pytest.mark.parametrize("value", ["1", "4"])
def test_mlps_level_bounds_accepted(value: str) -> None:
    assert build(environ={"TONGCHOU_MLPS_LEVEL": value}).mlps_level == int(value)


def test_require_identity_lists_missing() -> None:
    config = build(environ={"TONGCHOU_DIVISION": "440106", "TONGCHOU_CLUSTER": "c"})
    with pytest.raises(ConfigError) as info:
        config.require_identity()
    message = str(info.value)
    assert message.startswith("missing agent settings: site, provider, mlps_level (")
    listed = message.partition("(")[0]
    assert "division" not in listed
    assert "cluster" not in listed


def test_require_identity_passes_when_complete() -> None:
    config = build(environ=IDENTITY)
    config.require_identity()
    assert config.level == "county"
    assert config.mlps_level == 3


def test_require_identity_on_empty_config() -> None:
    with pytest.raises(ConfigError, match="division, site, cluster, provider, mlps_level"):
        AgentConfig().require_identity()


def test_setting_names() -> None:
    names = setting_names()
    assert "mlps_level" in names
    assert "where" not in names
    assert "backoff_initial" not in names
    # 12 + tls_ca, tls_cert, tls_key, insecure, join_token, join_hub, transport, renew_check,
    # relay_srv, relay_dns
    assert len(names) == 22


def test_transport_must_be_a_known_library() -> None:
    assert build(environ={}).transport == "auto"
    assert build(environ={"TONGCHOU_TRANSPORT": "grpcio"}).transport == "grpcio"
    with pytest.raises(ConfigError, match="environment TONGCHOU_TRANSPORT: unknown transport"):
        build(environ={"TONGCHOU_TRANSPORT": "http"})


def test_transport_is_mutual_tls_unless_insecure_is_asked_for() -> None:
    with pytest.raises(ConfigError, match="needs mutual TLS"):
        build(environ=IDENTITY).require_transport()
    build(environ={**IDENTITY, "TONGCHOU_INSECURE": "true"}).require_transport()
    tls = {"TONGCHOU_TLS_CA": "ca.crt", "TONGCHOU_TLS_CERT": "n.crt", "TONGCHOU_TLS_KEY": "n.key"}
    build(environ={**IDENTITY, **tls}).require_transport()
    with pytest.raises(ConfigError, match="exclude each other"):
        build(environ={**IDENTITY, **tls, "TONGCHOU_INSECURE": "1"}).require_transport()
    with pytest.raises(ConfigError, match="insecure must be true or false"):
        build(environ={**IDENTITY, "TONGCHOU_INSECURE": "maybe"})
    with pytest.raises(ConfigError, match="joining needs"):
        build(environ={**IDENTITY, "TONGCHOU_JOIN_TOKEN": "a.b", "TONGCHOU_INSECURE": "1"})
