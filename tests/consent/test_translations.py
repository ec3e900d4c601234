"""The committed .mo catalogues match their .po sources (they are committed so no gettext is needed)."""

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "consent" / "locale"
ENTRY = re.compile(r'msgid ((?:"(?:[^"\\]|\\.)*"\s*)+)msgstr ((?:"(?:[^"\\]|\\.)*"\s*)+)')


def po_entries(language: str) -> dict[str, str]:
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")

    def join(chunk: str) -> str:
        return ast.literal_eval('"' + "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', chunk)) + '"')

    return {join(m.group(1)): join(m.group(2)) for m in ENTRY.finditer(text) if join(m.group(1))}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_compiled_catalogue_matches_the_po_file(language):
    entries = po_entries(language)
    assert len(entries) > 40
    with translation.override(language):
        stale = {msgid: msgstr for msgid, msgstr in entries.items() if translation.gettext(msgid) != msgstr}
    assert stale == {}, "run compilemessages and commit the .mo files (docs/consent.md)"
    assert all(entries.values()), "every receipt text is translated"
