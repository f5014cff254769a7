"""`tongchou demo`: a hub, the sample province simulated over gRPC, this machine's agent, live."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import signal
import sys
import time
from pathlib import Path

from console import demo_catalog, demo_prometheus
from console.client import HubClient
from console.client.history import Prometheus, PrometheusSettings
from console.client.texts import document_texts
from console.documents import LoadError, load_documents, load_fleet, policies_of
from console.documents.builtin import default_policies_dir, sample_dir
from console.hub import loops
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.model.fleet import Fleet
from console.model.quantity import format_bytes
from console.security import demo_pki
from console.security.pki import PkiError
from console.simulate.nodes import sim_node
from console.simulate.runner import Simulator
from console.store import SqliteStore, StoreError
from console.store.credentials import Credentials, User
from console.tui.i18n import default_lang
from tongchou import levels
from tongchou.climsg import say
from tongchou.divisions import level_of
from tongchou.durations import DurationError, parse_duration
from tongchou.i18n import translate_composed
from tongchou.logfile import log_to_file
from tongchou.opsmsg import error
from tongchou.v1 import inventory_pb2, workloads_pb2

log = logging.getLogger("tongchou.demo")
DEMO_USER = "demo-operator"
SAMPLE = sample_dir()
POLICIES = default_policies_dir()


def _state_home() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tongchou" / "demo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fleet", type=Path, action="append", help=f"fleet files (default {SAMPLE})"
    )
    parser.add_argument(
        "--state-dir", type=Path, default=_state_home(), help="where the store lives"
    )
    parser.add_argument("--listen", default="127.0.0.1:7470", help="hub gRPC address")
    parser.add_argument("--metrics-listen", default="127.0.0.1:9470", help="hub /metrics address")
    parser.add_argument(
        "--policies", type=Path, action="append", help=f"placement policies (default {POLICIES})"
    )
    parser.add_argument(
        "--workloads",
        type=Path,
        action="append",
        help=f"workloads to submit (default {SAMPLE / 'workloads'})",
    )
    demo_catalog.add_arguments(parser, SAMPLE)
    parser.add_argument("--limit", type=int, default=0, help="simulate only the first N nodes")
    parser.add_argument("--every", default="5s", help="how often to print the summary (5s)")
    parser.add_argument("--duration", help="stop after this long (default: until Ctrl-C)")
    parser.add_argument(
        "--no-local-agent", action="store_true", help="do not run this machine's agent"
    )
    parser.add_argument(
        "--prometheus-listen",
        default="127.0.0.1:9090",
        help="where the demo's Prometheus listens, when installed (127.0.0.1:9090)",
    )
    parser.add_argument("--scrape-interval", default="5s", help="Prometheus's scrape interval")
    parser.add_argument("--no-prometheus", action="store_true", help="do not start Prometheus")
    parser.add_argument(
        "--headless",
        action="store_true",
        help="no console: print the fleet summary (also when there is no terminal)",
    )
    parser.add_argument(
        "--lang",
        choices=("en", "zh"),
        default=default_lang(),
        help="console language (from the locale)",
    )


class Progress:
    """What the demo is doing while the console cannot show yet, one line a step on stderr
    (the first within a second of starting)."""

    def __init__(self, lang: str = "en") -> None:
        self.started = time.monotonic()
        self.lang = lang

    def step(self, key: str, **values: object) -> None:
        """Prints the message `key` (tongchou.climsg) in the demo's language."""
        what = say(self.lang, key, **values)
        print(f"tongchou demo [{time.monotonic() - self.started:5.1f}s] {what}", file=sys.stderr,
              flush=True)  # fmt: skip


def attach_hint(address: str, pki: demo_pki.DemoPki, lang: str = "en") -> str:
    """How to attach a second console (or `tongchou workload`) to the demo's hub."""
    d = pki.directory
    command = (
        f"tongchou console --hub {address} --tls-ca {d / 'ca.crt'} "
        f"--tls-cert {d / (DEMO_USER + '.crt')} --tls-key {d / (DEMO_USER + '.key')}"
    )
    return say(lang, "demo_attach", command=command)


def _refused(what: str, code: int = 2) -> int:
    """`what` said on standard error; the exit code."""
    print(f"tongchou demo: {what}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().handlers[0].setLevel("WARNING")  # the terminal: warnings only
    try:  # the hub runs in this process: its log and the demo's, rotated
        log_to_file(args.state_dir / "demo.log", "INFO")
    except OSError as err:
        return _refused(
            say(args.lang, "demo_cannot_write", path=args.state_dir / "demo.log", error=err)
        )
    progress = args.progress = Progress(args.lang)
    progress.step("demo_loading", paths=", ".join(map(str, args.fleet or [SAMPLE])))
    try:
        fleet = load_fleet(args.fleet or [SAMPLE])
        every = parse_duration(args.every, "--every")
        args.scrape_seconds = parse_duration(args.scrape_interval, "--scrape-interval", high=300)
        duration = (
            parse_duration(args.duration, "--duration", high=10**7) if args.duration else None
        )
        store = SqliteStore(args.state_dir / "hub.db")
    except LoadError as err:
        return _refused(say(args.lang, "fleet_invalid", errors=err.text(args.lang)))
    except (DurationError, StoreError) as err:
        return _refused(error(args.lang, err))
    try:
        policies = tuple(policies_of(load_documents(args.policies or [POLICIES])))
        workloads = [document_texts(path) for path in args.workloads or [SAMPLE / "workloads"]]
    except LoadError as err:
        return _refused(say(args.lang, "policies_invalid", errors=err.text(args.lang)))
    except OSError as err:
        return _refused(say(args.lang, "demo_cannot_read_workloads", error=err))
    if (platforms := demo_catalog.platforms(args, SAMPLE)) is None:
        return 2
    progress.step("demo_ca", n=f"{len(fleet.nodes):,}", path=args.state_dir)
    try:
        pki = demo_pki.ensure(args.state_dir / "pki", DEMO_USER)
    except (PkiError, OSError) as err:
        return _refused(say(args.lang, "demo_cannot_ca", error=err), code=1)
    config = HubConfig(
        listen=args.listen,
        metrics_listen=args.metrics_listen,
        policies=policies,
        tls=pki.hub,
        trust_simulators=True,  # the demo's simulator reports for every simulated node
        platforms=platforms,
    )
    args.pki = pki
    credentials = Credentials(store.path)  # the console's user: runs workloads and plans
    if credentials.user(DEMO_USER) is None:
        credentials.add_user(User(DEMO_USER, ("operator", "planner"), ""))
    demo_pki.bind_user(credentials, pki.console, DEMO_USER)
    credentials.close()
    texts = [text for group in workloads for text in group]
    return asyncio.run(_demo(config, store, fleet, args, every, duration, texts))


def names_of(fleet: Fleet, limit: int) -> list[str]:
    """The nodes the demo simulates: all, or the first `limit` by name."""
    return sorted(fleet.nodes)[: limit or None]


def local_cluster(fleet: Fleet) -> str:
    """The cluster this machine's agent joins: the first shared province-level cluster."""
    ranked = sorted(
        fleet.clusters.values(),
        key=lambda c: (level_of(fleet.sites[c.site].division).rank, not c.shared, c.name),
    )
    if not ranked:
        raise ValueError("the fleet has no clusters")
    return ranked[0].name


async def _demo(
    config: HubConfig,
    store: SqliteStore,
    fleet: Fleet,
    args: argparse.Namespace,
    every: float,
    duration: float | None,
    workloads: list[str],
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    progress: Progress = args.progress
    progress.step("demo_starting_hub", address=config.listen, store=store.path)
    hub = Hub(config, store)
    hub.load_fleet(fleet)
    try:
        await hub.start()
    except (OSError, RuntimeError) as err:
        return _refused(say(args.lang, "demo_cannot_start_hub", error=error(args.lang, err)), 1)
    address = f"127.0.0.1:{hub.port}"
    names = names_of(fleet, args.limit)
    progress.step("demo_starting_agents", address=address, n=f"{len(names):,}")
    pki: demo_pki.DemoPki = args.pki
    tasks = [_simulate(address, fleet, names, pki, stop)]
    agent = None if args.no_local_agent else await _start_agent(address, fleet, pki)
    history, prometheus = await _start_prometheus(args, f"127.0.0.1:{hub.metrics_port}")
    headless = args.headless or not (sys.stdin.isatty() and sys.stdout.isatty())
    if headless:
        banner = say(
            args.lang, "demo_banner", address=address, ca=pki.directory,
            port=hub.metrics_port, store=store.path, n=len(names),
        )  # fmt: skip
        print(banner + ("" if agent is None else say(args.lang, "demo_banner_agent")), flush=True)
    hint = attach_hint(address, pki, args.lang)
    print(hint, flush=True)
    started = time.monotonic()
    async with HubClient(address, pki.console.channel_credentials()) as client:
        progress.step("demo_submitting", n=len(workloads))
        await _submit_new(client, workloads)
        if not headless:  # the console; leaving it stops everything the demo started
            progress.step("demo_opening")
            from console.tui.app import TongchouApp

            await TongchouApp(client, lang=args.lang, notice=hint, prometheus=history).run_async()
            print(hint, flush=True)
            stop.set()
        report = functools.partial(_report, client, started, duration, stop, args.lang)
        await loops.every(stop, every, report, wait_first=True)
    await _stop_agent(agent)
    await _stop_prometheus(history, prometheus)
    await asyncio.gather(*tasks)
    await hub.shutdown()
    print(say(args.lang, "demo_stopped"), flush=True)
    return 0


def _simulate(
    address: str, fleet: Fleet, names: list[str], pki: demo_pki.DemoPki, stop: asyncio.Event
) -> asyncio.Task[None]:
    """Every simulated node on its own stream to the hub, as one task."""
    sim = Simulator(
        address,
        [sim_node(fleet, fleet.nodes[n]) for n in names],
        stop=stop,
        credentials=pki.simulator.channel_credentials(),
    )
    return asyncio.create_task(sim.run(), name="demo-simulator")


async def _start_prometheus(
    args: argparse.Namespace, hub_metrics: str
) -> tuple[Prometheus | None, demo_prometheus.DemoPrometheus | None]:
    """Prometheus scraping the hub (its history in the console), or a word on why not."""
    if args.no_prometheus:
        return None, None
    progress: Progress = args.progress
    progress.step("demo_starting_prometheus", address=args.prometheus_listen)
    started = await demo_prometheus.start(
        args.state_dir / "prometheus", args.prometheus_listen, hub_metrics, args.scrape_seconds
    )
    if isinstance(started, str):
        print(f"tongchou demo: {error(args.lang, started)}", flush=True)
        return None, None
    said = say(args.lang, "demo_prometheus", url=started.url, interval=args.scrape_interval)
    print(said, flush=True)
    return Prometheus(PrometheusSettings(started.url)), started


async def _stop_prometheus(
    client: Prometheus | None, running: demo_prometheus.DemoPrometheus | None
) -> None:
    if client is not None:
        await client.close()
    if running is not None:
        await running.stop()


async def _submit_new(client: HubClient, workloads: list[str]) -> None:
    """Submits the workloads the hub does not hold yet (a store kept from an earlier run has
    them); each is placed as its capacity registers."""
    known = {w.name for w in await client.workloads()}
    for text in workloads:
        if not any(f"name: {name}" in text for name in known):
            await client.submit_workload(text)


async def _report(
    client: HubClient, started: float, duration: float | None, stop: asyncio.Event, lang: str
) -> None:
    """Prints the fleet's summary and the workloads; sets `stop` once `duration` is over."""
    summary = format_summary(await client.fleet_summary(), time.monotonic() - started, lang)
    print(summary + "\n" + format_workloads(await client.workloads(), lang), flush=True)
    if duration is not None and time.monotonic() - started >= duration:
        stop.set()


async def _stop_agent(agent: asyncio.subprocess.Process | None) -> None:
    if agent is not None:
        agent.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(agent.wait(), 5)


async def _start_agent(hub: str, fleet: Fleet, pki: demo_pki.DemoPki) -> asyncio.subprocess.Process:
    cluster = fleet.clusters[local_cluster(fleet)]
    site = fleet.sites[cluster.site]
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tongchou", "agent",
        "--hub", hub,
        "--node", pki.node,
        "--tls-ca", str(pki.directory / "ca.crt"),
        "--tls-cert", str(pki.directory / f"{pki.node}.crt"),
        "--tls-key", str(pki.directory / f"{pki.node}.key"),
        "--division", site.division,
        "--site", site.name,
        "--cluster", cluster.name,
        "--provider", site.provider,
        "--mlps-level", str(cluster.mlps_level),
        "--metrics-listen", "127.0.0.1:0",
        "--label", "demo=local",
        "--log-level", "warning",
    )  # fmt: skip


def _bar(used: float, total: float, width: int = 10) -> str:
    share = used / total if total else 0.0
    filled = round(share * width)
    return "█" * filled + "░" * (width - filled) + f" {share:4.0%}"


def format_summary(summary: inventory_pb2.FleetSummary, elapsed: float, lang: str = "en") -> str:
    """The fleet summary as a small table, one row per level."""
    t = summary.totals
    w = {key: say(lang, f"demo_head_{key}") for key in ("level", "ready", "stale", "lost")}
    fleet = say(
        lang, "demo_fleet_line", nodes=f"{t.nodes_ready + t.nodes_stale + t.nodes_lost:,}",
        clusters=summary.clusters, sites=summary.sites, divisions=summary.divisions,
        rate=f"{summary.reports_per_second:,.0f}",
        interval=f"{summary.report_interval.ToTimedelta().total_seconds():.0f}",
    )  # fmt: skip
    lines = [
        f"\n[{elapsed:5.0f}s] {fleet}",
        f"{w['level']:<9} {w['ready']:>6} {w['stale']:>6} {w['lost']:>5}  "
        f"{say(lang, 'demo_head_cpu'):>17} {'':15} {say(lang, 'demo_head_memory'):>19} {'':15}",
    ]
    rows = [(levels.name(lv.level), lv.totals) for lv in summary.levels]
    rows.append((say(lang, "demo_total"), t))
    for label, row in rows:
        if label:
            lines.append(
                f"{label:<9} {row.nodes_ready:>6,} {row.nodes_stale:>6,} {row.nodes_lost:>5,}  "
                f"{row.cpu_used_cores:>8,.0f}/{row.cpu_cores:<8,.0f} "
                f"{_bar(row.cpu_used_cores, row.cpu_cores)} "
                f"{format_bytes(row.memory_used_bytes):>9}/{format_bytes(row.memory_bytes):<9} "
                f"{_bar(row.memory_used_bytes, row.memory_bytes)}"
            )
    return "\n".join(lines)


def format_workloads(statuses: list[workloads_pb2.WorkloadStatus], lang: str = "en") -> str:
    """One line on the workloads: how many are placed in full, and which wait."""
    waiting = [s for s in statuses if s.pending]
    text = say(lang, "demo_workloads", n=len(statuses), full=len(statuses) - len(waiting))
    for s in waiting:
        placed = sum(p.replicas for p in s.placed)
        text += "\n" + say(
            lang, "demo_waiting", name=s.name, placed=placed, replicas=s.replicas,
            pending=s.pending, reason=translate_composed(lang, s.reason),
        )  # fmt: skip
    return text
