"""The `tongchou` command: one entry point, a subcommand per job, imported only when used."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from tongchou import __version__
from tongchou.argtext import add_lang, in_language, lang_given, translate_help
from tongchou.i18n import default_lang

# Subcommand → (help, module holding add_arguments(parser) and run(args) -> int).
_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "hub + simulated province + this machine's agent, with a live summary",
        "console.demo",
    ),
    "console": ("the operator console (Textual), attached to a hub", "console.tui.cli"),
    "hub": ("the central server: agent ingest, inventory, /metrics", "console.hub.cli"),
    "agent": ("the node daemon", "agent.cli"),
    "relay": (
        "a site's gateway: its nodes' streams in, batched reports out to the hub",
        "console.relay.cli",
    ),
    "simulate": ("run every node of a fleet file as a simulated agent", "console.simulate.cli"),
    "schedule": ("place workloads on a fleet under policies, offline", "console.scheduler.cli"),
    "plan": ("the unified plan: reuse or build, servers to buy, savings", "console.planner.cli"),
    "workload": ("submit, list, explain or delete workloads in a hub", "console.client.cli"),
    "apply": (
        "schedule workloads and apply them to the clusters' Kubernetes APIs",
        "console.executor.cli",
    ),
    "policy": ("policy tools: check", "console.scheduler.policy_cli"),
    "ca": (
        "certificate authority: init, issue hub/node/user certificates",
        "console.security.ca_cli",
    ),
    "user": (
        "console users: add, list, delete (roles, division scope)",
        "console.security.user_cli",
    ),
    "token": ("join tokens for nodes: create", "console.security.token_cli"),
    "audit": ("the audit log: verify its hash chain, export, prune", "console.security.audit_cli"),
    "sample": (
        "write the sample province and the default policies to a folder",
        "console.documents.sample_cli",
    ),
    "validate": (
        "check document files (fleet, and later workloads, plans)",
        "console.documents.cli",
    ),
    "report": ("the monthly report for leadership, as PDF", "console.report.cli"),
}


def _load(module: str) -> tuple[Callable[[argparse.ArgumentParser], None], Callable[..., int]]:
    try:
        mod = __import__(module, fromlist=["run"])
    except ImportError as err:
        if module.startswith("console") and err.name and not err.name.startswith("console"):
            print(
                f"tongchou: this command needs the console extra ({err.name} is missing): "
                "pip install 'tongchou[console]'",
                file=sys.stderr,
            )
            sys.exit(1)
        raise
    return mod.add_arguments, mod.run


def parsers() -> list[argparse.ArgumentParser]:
    """Every command's parser, built in English: the texts the catalogs translate."""
    return [_top("en"), *(_command(name, "en", given=False)[0] for name in _COMMANDS)]


def _top(lang: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tongchou", description="Tongchou (统筹): unified planning for government clouds"
    )
    parser.add_argument("--version", action="version", version=f"tongchou {__version__}")
    add_lang(parser, lang)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (text, _module) in _COMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    translate_help(parser, lang)
    return parser


def _command(
    name: str, lang: str, *, given: bool
) -> tuple[argparse.ArgumentParser, Callable[..., int]]:
    add_arguments, run = _load(_COMMANDS[name][1])
    command = argparse.ArgumentParser(prog=f"tongchou {name}", description=_COMMANDS[name][0])
    add_arguments(command)
    add_lang(command, lang, given=given)
    translate_help(command, lang)
    return command, run


def _without_lang(args: list[str]) -> list[str]:
    """`args` without the `--lang X` given before the command (one naming no language is
    left for the top-level parser to refuse)."""
    while args and args[0].startswith("--lang"):
        rest = args[1:] if "=" in args[0] else args[2:]
        if lang_given(args[: len(args) - len(rest)]) is None:
            break
        args = rest
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the subcommand, then hands the rest to its module, in the language of the
    command line's `--lang` (before or after the command) or of the locale."""
    args = list(sys.argv[1:] if argv is None else argv)
    given = lang_given(args)
    lang = given or default_lang()
    args = _without_lang(args)
    with in_language(lang):  # argparse's words: while the parsers are built and parse
        if not args or args[0] not in _COMMANDS:
            _top(lang).parse_args(args)  # prints usage or version, exits
            sys.exit(2)
        command, run = _command(args[0], lang, given=given is not None)
        parsed = command.parse_args(args[1:])
    sys.exit(_run(run, parsed))


def _run(run: Callable[..., int], args: argparse.Namespace) -> int:
    try:
        code = run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (`tongchou plan | head`): stop quietly, as a shell tool does;
        # standard output is pointed at the null device so the flush at exit cannot fail too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code
