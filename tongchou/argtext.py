"""The command line in the operator's language: argparse's own words (usage, errors, headings)
and every option's help from the gettext catalog, and `--lang` read before the parser is built.

argparse looks its words up through its module's `_` and `ngettext` (`gettext.gettext` of the
"messages" domain) each time it builds a parser or reports an error; `in_language` points those
two at the catalog's `argparse` context while a command line is parsed, then puts them back.
The options' help texts have the context `cli-help`: `translate_help` rewrites a built parser's."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from tongchou.i18n import LANGUAGES, SOURCE, default_lang, translated

ARGPARSE_CONTEXT = "argparse"
HELP_CONTEXT = "cli-help"
PREFIX = str(Path(__file__).parent.parent)
"""Where the packages are installed: a help text naming a shipped file (the demo's sample
fleet) holds it, and the catalog holds `{prefix}` in its place."""

ARGPARSE_MESSAGES: tuple[str, ...] = (
    # headings and the help option (Python 3.10 and later say "options")
    "usage: ",
    "positional arguments",
    "options",
    "optional arguments",
    "subcommands",
    "show this help message and exit",
    "show program's version number and exit",
    # errors an operator can cause
    "%(prog)s: error: %(message)s\n",
    "argument %(argument_name)s: %(message)s",
    "the following arguments are required: %s",
    "one of the arguments %s is required",
    "unrecognized arguments: %s",
    "invalid choice: %(value)r (choose from %(choices)s)",
    "invalid %(type)s value: %(value)r",
    "ambiguous option: %(option)s could match %(matches)s",
    "expected one argument",
    "expected at most one argument",
    "expected at least one argument",
    "expected %s argument",
    "expected %s arguments",
    "not allowed with argument %s",
    "ignored explicit argument %r",
    "unexpected option string: %s",
    "unknown parser %(parser_name)r (choices: %(choices)s)",
    "can't open '%(filename)s': %(error)s",
    'argument "-" with mode %r',
)
"""argparse's messages an operator can see (its others report a mistake in building a parser)."""

DEVELOPER_MESSAGES = frozenset(
    {
        ".__call__() not defined",
        "'required' is an invalid argument for positionals",
        "mutually exclusive arguments must be optional",
        "%r is not callable",
        "cannot merge actions - two groups are named %r",
        "invalid option string %(option)r: must start with a character %(prefix_chars)r",
        "dest= is required for options like %r",
        "invalid conflict_resolution value: %r",
        "cannot have multiple subparser arguments",
        "conflicting subparser: %s",
        "conflicting subparser alias: %s",
        "conflicting option string: %s",
        "conflicting option strings: %s",
    }
)
"""argparse's messages about a parser built wrongly: a programming error, left in English."""


def sources() -> list[tuple[str, str]]:
    """(context, English) of argparse's operator-visible messages."""
    return [(ARGPARSE_CONTEXT, message) for message in ARGPARSE_MESSAGES]


def lang_in(argv: Sequence[str], environ: dict[str, str] | None = None) -> str:
    """The language a command line asks for (`lang_given`), else the locale's."""
    return lang_given(argv) or default_lang(environ)


def lang_given(argv: Sequence[str]) -> str | None:
    """The last valid `--lang X` or `--lang=X` of a command line (before a `--`), if any."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        value = argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else ""
        if arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value in LANGUAGES:
            found = value
    return found


def _gettext(lang: str) -> Callable[[str], str]:
    def lookup(message: str) -> str:
        return translated(lang, ARGPARSE_CONTEXT, message) or message

    return lookup


def _ngettext(lang: str) -> Callable[[str, str, int], str]:
    lookup = _gettext(lang)

    def plural(singular: str, many: str, n: int) -> str:
        return lookup(singular if n == 1 else many)

    return plural


@contextlib.contextmanager
def in_language(lang: str) -> Iterator[None]:
    """argparse speaks `lang` inside the block: its parsers built and its errors raised there."""
    if lang == SOURCE:
        yield
        return
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._ = _gettext(lang)  # type: ignore[attr-defined]
    argparse.ngettext = _ngettext(lang)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def add_lang(parser: argparse.ArgumentParser, lang: str, *, given: bool = False) -> None:
    """Gives `parser` and each of its subcommands' parsers `--lang` with the default `lang`
    (the language `lang_in` read from the whole command line, or the locale's). One with its
    own `--lang` keeps its default unless the language was `given` on the command line (the
    monthly report's is Chinese; the others' come from the locale too)."""
    if any("--lang" in action.option_strings for action in parser._actions):
        if given:
            parser.set_defaults(lang=lang)
    else:
        parser.add_argument(
            "--lang",
            choices=LANGUAGES,
            default=lang,
            help="language of the messages (default from the locale: zh when LANG is zh_*)",
        )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                add_lang(sub, lang, given=given)


def _texts(parser: argparse.ArgumentParser) -> Iterator[tuple[object, str, str]]:
    """(holder, attribute, English) of every help text, description and group title of
    `parser` and of its subcommands' parsers."""
    for attribute in ("description", "epilog"):
        value = getattr(parser, attribute)
        if isinstance(value, str) and value:
            yield parser, attribute, value
    for group in parser._action_groups:
        for attribute in ("title", "description"):
            value = getattr(group, attribute)
            if isinstance(value, str) and value and value not in ARGPARSE_MESSAGES:
                yield group, attribute, value
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):  # argparse's words, built in the language
            continue
        if action.help and action.help != argparse.SUPPRESS:
            yield action, "help", action.help
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.help:
                    yield choice, "help", choice.help
            for sub in dict.fromkeys(action.choices.values()):
                yield from _texts(sub)


def help_sources(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """(context, English) of every help text of `parser` (built in English)."""
    return [
        (HELP_CONTEXT, _key(text))
        for _holder, _attribute, text in _texts(parser)
        if text not in ARGPARSE_MESSAGES
    ]


def _key(text: str) -> str:
    return text.replace(PREFIX, "{prefix}")


def translate_help(parser: argparse.ArgumentParser, lang: str) -> None:
    """Every help text, description and group title of `parser` in `lang` (English where the
    catalog has no translation)."""
    if lang == SOURCE:
        return
    for holder, attribute, text in list(_texts(parser)):
        if text in ARGPARSE_MESSAGES:  # --version's help, which argparse does not translate
            setattr(holder, attribute, translated(lang, ARGPARSE_CONTEXT, text) or text)
            continue
        found = translated(lang, HELP_CONTEXT, _key(text))
        setattr(holder, attribute, found.replace("{prefix}", PREFIX) if found else text)
