"""Every text of the console is translated into French and Arabic, and the committed .mo files
match their .po sources (console/locale; docs/console.md says how to update them)."""

from pathlib import Path

import pytest
from django.utils import translation

from tests.consent import test_translations

LOCALE = Path(__file__).resolve().parents[2] / "console" / "locale"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_console_text_is_translated_and_compiled(language):
    test_translations.assert_catalogue_complete(LOCALE, language, at_least=70)
    with translation.override(language):
        # the one plural: every form of the language is there
        counts = {translation.ngettext("%(counter)s referral", "%(counter)s referrals", n) for n in range(12)}
    assert all("referral" not in text for text in counts)


def _msgids(po_text: str) -> set[str]:
    """The msgids of a .po file (continuation lines joined), header and obsolete entries left out."""
    ids, current, inside = set(), None, False
    for line in po_text.splitlines():
        if line.startswith("msgid "):
            current, inside = line[len("msgid ") :].strip('"'), True
        elif inside and line.startswith('"'):
            current += line.strip('"')
        else:
            if inside and current:
                ids.add(current)
            inside = False
    if inside and current:
        ids.add(current)
    return ids


def test_every_text_in_the_sources_is_in_the_catalogues(tmp_path):
    """A text added to a template or a module without running makemessages is caught here: the
    catalogue extracted afresh from the sources holds nothing the committed one lacks."""
    import shutil
    import subprocess
    import sys

    source = LOCALE.parent
    copy = tmp_path / "console"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for language in ("fr", "ar"):
        (copy / "locale" / language / "LC_MESSAGES" / "django.po").unlink()
    django_admin = Path(sys.executable).with_name("django-admin")
    subprocess.run(
        [str(django_admin), "makemessages", "-l", "fr", "--no-location", "--no-wrap"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    extracted = _msgids((copy / "locale" / "fr" / "LC_MESSAGES" / "django.po").read_text())
    for language in ("fr", "ar"):
        committed = _msgids((LOCALE / language / "LC_MESSAGES" / "django.po").read_text())
        assert extracted - committed == set(), f"run makemessages for {language}: texts missing"
