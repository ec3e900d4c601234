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
