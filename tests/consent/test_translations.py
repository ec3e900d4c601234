"""The committed .mo catalogues match their .po sources (they are committed so no gettext is needed)."""

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "consent" / "locale"
ENTRY = re.compile(r'msgid ((?:"(?:[^"\\]|\\.)*"\s*)+)msgstr ((?:"(?:[^"\\]|\\.)*"\s*)+)')


def po_entries(language: str, locale: Path = LOCALE) -> dict[str, str]:
    text = (locale / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")

    def join(chunk: str) -> str:
        return ast.literal_eval('"' + "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', chunk)) + '"')

    return {join(m.group(1)): join(m.group(2)) for m in ENTRY.finditer(text) if join(m.group(1))}


def assert_catalogue_complete(locale: Path, language: str, *, at_least: int) -> None:
    """Every entry of ``locale``'s .po file for ``language`` is translated, and the compiled .mo
    (what gettext serves) says the same."""
    entries = po_entries(language, locale)
    assert len(entries) >= at_least and all(entries.values())
    with translation.override(language):
        assert {m: s for m, s in entries.items() if translation.gettext(m) != s} == {}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_compiled_catalogue_matches_the_po_file(language):
    entries = po_entries(language)
    assert len(entries) > 40
    with translation.override(language):
        stale = {msgid: msgstr for msgid, msgstr in entries.items() if translation.gettext(msgid) != msgstr}
    assert stale == {}, "run compilemessages and commit the .mo files (docs/consent.md)"
    assert all(entries.values()), "every receipt text is translated"
