"""Translations from gettext catalogs, and the interface language from the locale.

The catalogs are `tongchou/locale/<lang>/LC_MESSAGES/tongchou.po` (edited by translators; each
message has a context naming what it is) compiled to the `.mo` beside it by `./dev i18n`;
both ship in the package. English is the source language and needs no catalog."""

from __future__ import annotations

import functools
import gettext
import os
import re
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


# -- composed messages ---------------------------------------------------------------------

_FIELD = re.compile(r"\{(\w+)\}")
_NUMERIC = frozenset({"n", "level", "highest", "placed", "replicas", "left", "count", "sites",
                      "eligible", "fit"})  # fmt: skip
_SPANNING = frozenset({"parts"})  # may hold "; " itself
_RUN = 3  # a shape holds at most two separators of its own ("; " or ", ")


def _pattern(template: str) -> re.Pattern[str]:
    out = []
    for i, part in enumerate(_FIELD.split(template)):
        if i % 2 == 0:
            out.append(re.escape(part))
        elif part in _NUMERIC:
            out.append(rf"(?P<{part}>[\d,]+)")
        else:
            out.append(rf"(?P<{part}>.+?)" if part in _SPANNING else rf"(?P<{part}>[^;]+?)")
    return re.compile("".join(out))


@functools.cache
def _shapes(lang: str, context: str) -> list[tuple[re.Pattern[str], str]]:
    """The catalog's translated shapes of `context`, the most literal text first."""
    catalog: Mapping[object, str] = getattr(translations(lang), "_catalog", {})
    found = [
        (key.split("\x04", 1)[1], value)
        for key, value in catalog.items()
        if isinstance(key, str) and key.startswith(f"{context}\x04") and value
    ]
    found.sort(key=lambda kv: (-len(_FIELD.sub("", kv[0])), kv[0]))
    return [(_pattern(english), value) for english, value in found]


@functools.lru_cache(maxsize=4096)
def translate_composed(lang: str, message: str, context: str = "reason") -> str:
    """`message`, composed in English from the shapes of `context` (`{field}`s filled with
    values or with other shapes), in `lang`; a part no shape matches stays as it is."""
    if lang == SOURCE or not message:
        return message
    return _compose(lang, context, message, 0)


def _compose(lang: str, context: str, message: str, depth: int) -> str:
    matched = _shaped(lang, context, message, depth)
    if matched is not None or depth > 6:
        return message if matched is None else matched
    for separator, joined in (("; ", "；"), (", ", "，")):
        if separator not in message:
            continue
        parts, done, i = message.split(separator), [], 0
        while i < len(parts):  # the longest run of parts one shape matches, else one part
            for j in range(min(len(parts), i + _RUN), i + 1, -1):
                found = _shaped(lang, context, separator.join(parts[i:j]), depth)
                if found is not None:
                    done.append(found)
                    i = j
                    break
            else:
                done.append(_compose(lang, context, parts[i], depth + 1))
                i += 1
        if done != parts:
            return joined.join(done)
    return message


def _shaped(lang: str, context: str, message: str, depth: int) -> str | None:
    """`message` translated by the first shape that matches all of it, else None."""
    for pattern, translation in _shapes(lang, context):
        found = pattern.fullmatch(message)
        if found is not None:
            values = {
                k: _compose(lang, context, v, depth + 1) for k, v in found.groupdict().items()
            }
            return translation.format(**values)
    return None
