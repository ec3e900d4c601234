"""Every text of the person's door is translated into French and Arabic, and the committed .mo
files match their .po sources (community/locale; docs/person.md says how to update them)."""

from pathlib import Path

import pytest
from django.utils import translation

from community.services import code_message
from tests.consent import test_translations

LOCALE = Path(__file__).resolve().parents[2] / "community" / "locale"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_text_of_the_door_is_translated_and_compiled(language):
    test_translations.assert_catalogue_complete(LOCALE, language, at_least=100)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_sms_is_translated_and_still_only_the_code(language):
    text = code_message("123456", language)
    assert "123456" in text and "Your code" not in text
    with translation.override(language):
        assert len(text) < 30


def test_every_text_in_the_sources_is_in_the_catalogues(tmp_path):
    import shutil
    import subprocess
    import sys

    from tests.console.test_translations import _msgids

    copy = tmp_path / "community"
    shutil.copytree(LOCALE.parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
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
