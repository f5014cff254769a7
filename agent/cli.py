"""`tongchou agent` (also `tongchou-agent`): flags, one-shot output, and the daemon's main."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from agent.config import AgentConfig, ConfigError, build
from agent.report import ReportBuilder
from tongchou import __version__
from tongchou.argtext import add_lang, in_language, lang_in, translate_help
from tongchou.climsg import say
from tongchou.opsmsg import error

if TYPE_CHECKING:
    from agent.collect import Collector
    from agent.transport import Transport

log = logging.getLogger("tongchou.agent")
SHUTDOWN_TIMEOUT = 5.0

_FLAGS = {
    "hub": "hub address, host:port (default 127.0.0.1:7470)",
    "node": "node name (default: the host name)",
    "division": "GB/T 2260 code of the node's division, e.g. 440106",
    "level": "government level; derived from --division when omitted",
    "site": "site name",
    "cluster": "cluster name",
    "provider": "cloud vendor, or on-prem",
    "mlps_level": "等保 (MLPS) level of the cluster, 1 to 4",
    "interval": "report interval, e.g. 10s (the hub may stretch it)",
    "metrics_listen": "host:port for /metrics (default 0.0.0.0:9471; empty to disable)",
    "host_root": "where the host's /proc and /etc/os-release are seen (default /; /host in a pod)",
    "tls_ca": "CA certificate (PEM) that signed the hub",
    "tls_cert": "this node's certificate (PEM; tongchou ca issue --kind node)",
    "tls_key": "this node's private key (PEM)",
    "join_token": "single-use join token (tongchou token create); used when --tls-cert is missing",
    "join_hub": "the hub's token port, host:port (tongchou hub --token-listen)",
    "relay_srv": "DNS domain announcing this site's relays (SRV _tongchou-relay._tcp.DOMAIN);"
    " tried before --hub, which is used when none answers",
    "relay_dns": "DNS server host:port for --relay-srv (default: the system's resolvers)",
    "renew_check": "how often the certificate's age is checked (1m); it renews at 2/3 of its life",
    "transport": "gRPC library: auto (h2, pure Python, when installed, else grpcio), h2 or grpcio",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML config file (e.g. /etc/tongchou/agent.yaml)")
    for name, text in _FLAGS.items():
        parser.add_argument("--" + name.replace("_", "-"), dest=name, help=text)
    parser.add_argument(
        "--label", action="append", default=[], metavar="KEY=VALUE", help="extra label (repeatable)"
    )
    parser.add_argument(
        "--insecure", action="store_true", help="plaintext gRPC without TLS (tests only; warns)"
    )
    parser.add_argument("--once", action="store_true", help="print one report and exit")
    parser.add_argument("-o", "--output", choices=("json", "yaml"), default="json")
    parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )


def config_from(args: argparse.Namespace) -> AgentConfig:
    flags: dict[str, tuple[object, str]] = {}
    for name in _FLAGS:
        value = getattr(args, name)
        if value is not None:
            flags[name] = (value, "flag --" + name.replace("_", "-"))
    if args.insecure:
        flags["insecure"] = (True, "flag --insecure")
    if args.label:
        flags["labels"] = (",".join(args.label), "flag --label")
    return build(config_file=args.config, flags=flags)


def run(args: argparse.Namespace) -> int:
    """Runs the agent as the parsed flags say; returns the exit code."""
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = config_from(args)
        if not args.once:
            config.require_identity()
            config.require_transport()
    except ConfigError as err:
        print(f"tongchou agent: {error(args.lang, err)}", file=sys.stderr)
        return 2
    if config.insecure and not args.once:
        log.warning(
            "INSECURE: plaintext gRPC without mutual TLS (--insecure); anyone on the network can "
            "read and forge this node's reports. Use only on loopback or in tests."
        )
    builder = ReportBuilder(config, host_collector(config.host_root))
    if args.once:
        return _print_once(builder, args.output)
    from agent.transport import TransportUnavailable, load

    try:
        chosen = load(config.transport)
    except TransportUnavailable as err:
        where = config.where.get("transport", "transport auto")
        print(f"tongchou agent: {where}: {err}", file=sys.stderr)
        return 1
    if config.join_token and not os.path.exists(config.tls_cert):
        code = asyncio.run(_join(config, chosen, args.lang))
        if code:
            return code
    return asyncio.run(_serve(config, builder, chosen, args.lang))


def host_collector(host_root: str) -> Collector:
    """A collector that reads the host's /proc and os-release under `host_root`."""
    from agent.collect import Collector

    if host_root == "/":
        return Collector()
    from agent.procfs import Procfs

    def under(*parts: str) -> str:
        return os.path.join(host_root, *parts)

    return Collector(
        procfs=Procfs(proc=under("proc"), sys=under("sys")),
        cpuinfo_path=under("proc", "cpuinfo"),
        os_release_path=under("etc", "os-release"),
        os_release_fallback=under("usr", "lib", "os-release"),
        nvidia_gpus_dir=under("proc", "driver", "nvidia", "gpus"),
        dev_dir=under("dev"),
        pci_dir=under("sys", "bus", "pci", "devices"),
    )


def _print_once(builder: ReportBuilder, output: str) -> int:
    import json

    from google.protobuf import json_format

    data = json_format.MessageToDict(builder.next())
    if output == "yaml":
        import yaml

        print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), end="")
    else:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


async def _join(config: AgentConfig, chosen: Transport, lang: str = "en") -> int:
    """Gets this node's certificate with the join token; 0 on success, else the exit code."""
    from agent import enroll
    from agent.transport import RpcError

    where = config.join_hub or config.hub
    try:
        (ca,) = enroll.read(config.tls_ca)
        cert, key = await enroll.join(where, ca, config.join_token, config.node, chosen)
        enroll.write_pair(config.tls_cert, config.tls_key, cert, key)
    except OSError as err:
        print(f"tongchou agent: {err.filename}: {err.strerror}", file=sys.stderr)
        return 2
    except RpcError as err:
        what = say(lang, "agent_join_failed", where=where, error=err.details)
        print(f"tongchou agent: {what}", file=sys.stderr)
        bad = ("UNAUTHENTICATED", "PERMISSION_DENIED", "INVALID_ARGUMENT")
        return 2 if err.code in bad else 1
    log.info("joined: certificate for node %s written to %s", config.node, config.tls_cert)
    return 0


async def _serve(
    config: AgentConfig, builder: ReportBuilder, chosen: Transport, lang: str = "en"
) -> int:
    from agent.daemon import Agent
    from agent.metrics import AgentMetrics, NodeCollector

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    metrics = AgentMetrics()
    agent = Agent(config, builder, metrics=metrics, stop=stop, transport=chosen)
    metrics.register(NodeCollector(lambda: agent.latest))
    metrics_port = 0
    if config.metrics_listen:
        try:
            metrics_port = await metrics.serve(config.metrics_listen)
        except OSError as err:
            where = config.where.get("metrics_listen", "default --metrics-listen")
            what = say(
                lang, "agent_cannot_listen", where=where, address=config.metrics_listen, error=err
            )
            print(f"tongchou agent: {what}", file=sys.stderr)
            return 2
    log.info(
        "tongchou agent %s: node %s (%s, %s/%s) reporting to %s every %gs over %s; metrics %s",
        __version__,
        config.node,
        config.division,
        config.site,
        config.cluster,
        config.hub,
        config.interval,
        chosen.name,
        f"on :{metrics_port}/metrics" if metrics_port else "off",
    )
    task = asyncio.create_task(agent.run(), name="agent-report-loop")
    await stop.wait()
    log.info("stopping")
    try:
        await asyncio.wait_for(task, SHUTDOWN_TIMEOUT)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await metrics.close()
    log.info("stopped")
    return 0


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, told the terminal's width: left to find it, it imports
    shutil, and with it the bz2 and lzma libraries — half a MiB the daemon would hold."""

    def __init__(self, prog: str) -> None:
        columns = 80
        try:
            columns = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError, AttributeError):  # not a terminal, or no stdout
            with contextlib.suppress(ValueError):
                columns = int(os.environ.get("COLUMNS", ""))
        super().__init__(prog, width=max(columns - 2, 40))


def build_parser(lang: str) -> argparse.ArgumentParser:
    """The parser of `tongchou-agent`, its texts in `lang` (build it inside `in_language`)."""
    parser = argparse.ArgumentParser(
        prog="tongchou-agent", description="Tongchou node agent", formatter_class=_Formatter
    )
    add_arguments(parser)
    add_lang(parser, lang)
    translate_help(parser, lang)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `tongchou-agent`."""
    args = list(sys.argv[1:] if argv is None else argv)
    lang = lang_in(args)
    with in_language(lang):
        parsed = build_parser(lang).parse_args(args)
    sys.exit(run(parsed))
