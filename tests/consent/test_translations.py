"""The committed .mo catalogues match their .po sources (they are committed so no gettext is needed)."""

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "consent" / "locale"
# an optional context, then msgid and msgstr; a context's entry is looked up with pgettext
STRINGS = r'((?:"(?:[^"\\]|\\.)*"\s*)+)'
ENTRY = re.compile(rf"(?:msgctxt {STRINGS})?msgid {STRINGS}msgstr {STRINGS}")


def po_entries(language: str, locale: Path = LOCALE) -> dict[str, str]:
    text = (locale / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")

    def join(chunk: str) -> str:
        return ast.literal_eval('"' + "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', chunk)) + '"')

    entries = {}
    for m in ENTRY.finditer(text):
        if join(m.group(2)):
            key = join(m.group(2)) if m.group(1) is None else (join(m.group(1)), join(m.group(2)))
            entries[key] = join(m.group(3))
    return entries


def served(key) -> str:
    """What gettext serves for an entry (``(context, msgid)`` for one with a context)."""
    return translation.pgettext(*key) if isinstance(key, tuple) else translation.gettext(key)


def assert_catalogue_complete(locale: Path, language: str, *, at_least: int) -> None:
    """Every entry of ``locale``'s .po file for ``language`` is translated, and the compiled .mo
    (what gettext serves) says the same."""
    entries = po_entries(language, locale)
    assert len(entries) >= at_least and all(entries.values())
    with translation.override(language):
        assert {m: s for m, s in entries.items() if served(m) != s} == {}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_compiled_catalogue_matches_the_po_file(language):
    entries = po_entries(language)
    assert len(entries) > 40
    with translation.override(language):
        stale = {msgid: msgstr for msgid, msgstr in entries.items() if served(msgid) != msgstr}
    assert stale == {}, "run compilemessages and commit the .mo files (docs/consent.md)"
    assert all(entries.values()), "every receipt text is translated"
