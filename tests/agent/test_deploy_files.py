"""The systemd unit and the example agent config that ship in deploy/ are usable as they are."""

from __future__ import annotations

import argparse
import configparser
import shlex
from pathlib import Path

from agent.cli import add_arguments
from agent.config import build

ROOT = Path(__file__).resolve().parents[2]


def test_example_config_loads_with_every_identity_setting() -> None:
    config = build(config_file=ROOT / "deploy" / "agent.example.yaml", environ={})
    config.require_identity()
    assert (config.division, config.level, config.mlps_level) == ("440106", "county", 3)
    assert config.labels["department"] == "数字政府运营中心"
    assert config.interval == 10.0
    config.require_transport()  # mutual TLS, not plaintext


def test_the_node_certificate_lies_in_the_units_only_writable_directory() -> None:
    config = build(config_file=ROOT / "deploy" / "agent.example.yaml", environ={})
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(ROOT / "deploy" / "systemd" / "tongchou-agent.service", encoding="utf-8")
    state = "/var/lib/" + unit["Service"]["StateDirectory"]
    assert unit["Service"]["ProtectSystem"] == "strict"
    assert Path(config.tls_cert).parent == Path(state) == Path(config.tls_key).parent


def test_systemd_unit_runs_the_agent_with_the_example_config_path() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy" / "systemd" / "tongchou-agent.service", encoding="utf-8")
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0].endswith("/tongchou-agent")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(argv[1:])
    assert args.config == "/etc/tongchou/agent.yaml"
    assert service["KillSignal"] == "SIGTERM"
    assert service["Restart"] == "always"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
