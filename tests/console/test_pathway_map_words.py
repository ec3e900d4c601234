"""The pathway map speaks the page's language: the drawing's own words and the condition readings
come translated (pathways.drawing and pathways.conditions take them as plain data)."""

import pytest
from django.conf import settings

from pathways import services as pathway_services
from tests.console.test_every_page import Place, client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "entry", "anyone"), [("en", "ENTRY", "anyone"), ("fr", "ENTRÉE", "tout le monde")]
)
def test_the_map_is_drawn_in_the_pages_language(client, language, entry, anyone):
    place = Place()
    pathway_services.link_update(actor=place.admin, link=place.link, condition={})
    client = client_for(client, place, "admin")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    body = client.get(f"/console/pathways/{place.pathway.pk}").content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert f">{entry}<" in svg or f"{entry} " in svg or f"{entry}</" in svg
    assert anyone in svg
