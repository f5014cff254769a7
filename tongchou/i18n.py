"""Translations from gettext catalogs, and the interface language from the locale.

The catalogs are `tongchou/locale/<lang>/LC_MESSAGES/tongchou.po` (edited by translators; each
message has a context naming what it is) compiled to the `.mo` beside it by `./dev i18n`;
both ship in the package. English is the source language and needs no catalog."""

from __future__ import annotations

import functools
import gettext
import os
from collections.abc import Mapping
from pathlib import Path

DOMAIN = "tongchou"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "zh")
SOURCE = "en"


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of `lang` (a null one for English or a language without one)."""
    if lang == SOURCE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def translated(lang: str, context: str, message: str) -> str | None:
    """`message` (English) in `lang`, or None when the catalog has no translation of it."""
    if lang == SOURCE:
        return message
    # gettext stores a message with a context under "context\x04message"
    catalog: Mapping[str, str] = getattr(translations(lang), "_catalog", {})
    found = catalog.get(f"{context}\x04{message}")
    return found or None


def default_lang(environ: Mapping[str, str] | None = None) -> str:
    """`zh` when the locale asks for Chinese (LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as
    gettext reads them), else `en`."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "zh" if value.split(":")[0].lower().startswith("zh") else "en"
    return "en"
