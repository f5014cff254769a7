"""`./dev i18n`: brings the gettext catalogs in line with the English sources and compiles them.

Every message shown in English (`sources()`: the console's labels, the scheduler's and the
planner's reason shapes, the plan report's words and the CLI's messages, each a context and
the English text) gets an entry in each language's .po, which keeps its translation; an entry
whose English changed is kept as a fuzzy suggestion (not used until a translator clears the
flag); entries no longer in the sources are dropped. Each .po is then compiled to the .mo
beside it. `--check` changes nothing and exits 1 when a catalog is out of step with the
sources or a .mo with its .po."""

from __future__ import annotations

import argparse
import datetime as dt
import gettext
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from agent import cli as agent_cli
from console.report import texts as report_texts
from console.scheduler import reasons
from console.tui import i18n as labels
from tongchou import argtext, cli, climsg, opsmsg, plantext
from tongchou.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, SOURCE

FIXED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # no timestamps that change on every run
HEADER = """\
# Tongchou's messages in one language. msgctxt is the message's key in console/tui/i18n.py
# (level:, state:, kind: for levels, node states and event kinds); msgid is the English.
# Edit msgstr only, then run ./dev i18n, which adds new messages and compiles the .mo.
#"""


def sources() -> list[tuple[str, str]]:
    """Every (context, English) once: a help text several commands share is one entry."""
    helps = [text for parser in [*cli.parsers(), agent_cli.build_parser("en")]
             for text in argtext.help_sources(parser)]  # fmt: skip
    found = [*labels.sources(), *reasons.sources(), *plantext.sources(), *climsg.sources(),
             *opsmsg.sources(), *argtext.sources(), *helps, *report_texts.sources()]  # fmt: skip
    return list(dict.fromkeys(found))


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN)
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def updated(old: Catalog, lang: str) -> Catalog:
    """The catalog of the sources, with `old`'s translations (by context and English)."""
    new = Catalog(
        locale=lang,
        domain=DOMAIN,
        header_comment=HEADER,
        project="tongchou",
        version="1",
        msgid_bugs_address="",
        creation_date=FIXED,
        revision_date=FIXED,
        last_translator="",
        language_team=lang,
        fuzzy=False,
    )
    by_context = {m.context: m for m in old if m.id and m.context}
    for context, english in sources():
        prior = old.get(english, context=context)
        if prior is not None:
            new.add(english, prior.string, context=context, flags=prior.flags)
            continue
        moved = by_context.get(context)  # the English changed: its old translation, fuzzy
        string = moved.string if moved is not None else ""
        new.add(english, string, context=context, flags={"fuzzy"} if string else ())
    return new


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=100, no_location=True, omit_header=False)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def problems(lang: str) -> list[str]:
    """What is out of step for `lang`: messages missing from or extra in its .po, and a .mo
    that does not hold exactly the .po's translations."""
    catalog = read(lang)
    have = {(m.context, m.id) for m in catalog if m.id}
    want = set(sources())
    out = [f"{po_path(lang)}: no entry for {c!r}: {e!r}" for c, e in sorted(want - have)]
    out += [f"{po_path(lang)}: no longer used: {c!r}: {e!r}" for c, e in sorted(have - want)]
    mo = po_path(lang).with_suffix(".mo")
    if not mo.exists():
        return [*out, f"{mo}: missing"]
    with mo.open("rb") as f:
        compiled = dict(getattr(gettext.GNUTranslations(f), "_catalog", {}))
    compiled.pop("", None)
    expected = {
        f"{m.context}\x04{m.id}": m.string
        for m in catalog
        if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
    }
    if compiled != expected:
        out.append(f"{mo}: not compiled from the .po beside it")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    langs = [lang for lang in LANGUAGES if lang != SOURCE]
    if args.check:
        found = [line for lang in langs for line in problems(lang)]
        for line in found:
            print(line, file=sys.stderr)
        if found:
            print("i18n: run ./dev i18n, then translate what it leaves empty", file=sys.stderr)
        return 1 if found else 0
    for lang in langs:
        catalog = updated(read(lang), lang)
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(po_bytes(catalog))
        path.with_suffix(".mo").write_bytes(mo_bytes(catalog))
        empty = sum(1 for m in catalog if m.id and (not m.string or m.fuzzy))
        print(f"i18n: {path}: {len(catalog)} messages, {empty} to translate", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
