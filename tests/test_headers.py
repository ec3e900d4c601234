"""Rule 10 of "Under attack": a strict CSP on every page, no-store on every response that may hold
personal data, and the browser tools (Swagger UI, GraphiQL) served by us, never from a CDN."""

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from graphene_django.views import GraphQLView

from hub.local_state import BASE_DIR
from tests.conftest import admin_login, token_for
from tests.referrals.referral_setup import build_world

VENDORED = BASE_DIR / "hub" / "static" / "graphiql"


class _Page(HTMLParser):
    """The URLs a page loads, and its inline scripts and styles with their nonces."""

    def __init__(self):
        super().__init__()
        self.assets: list[str] = []
        self.inline: list[tuple[str, str | None]] = []
        self._open: tuple[str, dict] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.assets.append(attributes["src"])
        elif tag == "link" and attributes.get("href"):
            self.assets.append(attributes["href"])
        elif tag == "img" and attributes.get("src"):
            self.assets.append(attributes["src"])
        elif tag in ("script", "style"):
            self._open = (tag, attributes)

    def handle_endtag(self, tag):
        if self._open and self._open[0] == tag:
            kind, attributes = self._open
            if attributes.get("type") != "application/json":  # a data block, never executed
                self.inline.append((kind, attributes.get("nonce")))
            self._open = None


def _page(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.fixture
def signed_in(client, platform_admin, settings):
    settings.GRAPHIQL_ENABLED = True  # as in the demo (DEBUG)
    return admin_login(client, platform_admin)  # password and a TOTP code, as every staff sign-in


@pytest.fixture
def browser(request, client, settings):
    """A signed-in platform admin's browser, or an anonymous one for the login page."""
    if request.node.callspec.params.get("name") == "admin login":
        return client
    return request.getfixturevalue("signed_in")


PAGES = {
    "admin": ("/admin/", {}),
    "admin login": ("/admin/login/", {}),
    "Swagger UI": ("/api/docs/", {}),
    "GraphiQL": ("/graphql", {"HTTP_ACCEPT": "text/html"}),
    "browsable API": ("/api/v1/me", {"HTTP_ACCEPT": "text/html"}),
}


@pytest.mark.parametrize("name", PAGES)
def test_every_html_page_has_a_strict_csp_that_its_inline_code_meets(browser, name):
    path, headers = PAGES[name]
    response = browser.get(path, **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    directives = _directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        sources = directives[directive]
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources
    policy = response["Content-Security-Policy"]
    assert "http:" not in policy and "https:" not in policy and "*" not in policy
    for kind, nonce in _page(response).inline:
        assert nonce is not None, f"an inline <{kind}> without a nonce on {path}"
        assert f"'nonce-{nonce}'" in directives[f"{kind}-src"]


def test_api_answers_carry_the_policy_too(signed_in):
    assert "default-src 'self'" in signed_in.get("/api/v1/me")["Content-Security-Policy"]


# Cache-Control ---------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    return build_world()


def test_personal_data_is_never_stored_by_a_cache(world, api, client):
    referral = world.send()
    client_a = api(world.a.caseworker)
    answers = {
        "referral detail": client_a.get(f"/api/v1/referrals/{referral.id}"),
        "person list": client_a.get("/api/v1/persons"),
        "an error": client_a.get("/api/v1/persons?limit=0"),
        "the API root": client.get("/api/"),
    }
    for name, response in answers.items():
        assert "no-store" in response["Cache-Control"], name
    graphql = client.post(
        "/graphql",
        data='{"query": "{ viewer { username } }"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token_for(world.a.caseworker)}",
    )
    assert graphql.status_code == 200 and "no-store" in graphql["Cache-Control"]


def test_the_admin_is_never_stored_by_a_cache(signed_in):
    assert "no-store" in signed_in.get("/admin/")["Cache-Control"]


# Assets: ours, never a CDN's -------------------------------------------------------------------


@pytest.fixture(scope="module")
def collected_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=root):
        call_command("collectstatic", "--noinput", verbosity=0)
    return root


@pytest.fixture
def collected(settings, collected_root):
    """The production path: collectstatic into STATIC_ROOT, served by WhiteNoise."""
    settings.STATIC_ROOT = collected_root
    return collected_root


@pytest.mark.parametrize("name", ["Swagger UI", "GraphiQL"])
def test_browser_tools_load_only_our_own_files_and_each_answers(collected, signed_in, name):
    path, headers = PAGES[name]
    page = _page(signed_in.get(path, **headers))
    assert page.assets, "the page loads no files?"
    for url in page.assets:
        assert not re.match(r"(https?:)?//", url), f"{name} loads {url} from elsewhere"
        answer = signed_in.get(url)
        assert answer.status_code == 200, f"{url}: {answer.status_code}"
        if url.startswith("/static/"):
            assert "no-store" not in answer.get("Cache-Control", ""), f"{url}: static files stay cacheable"
            body = b"".join(answer.streaming_content) if answer.streaming else answer.content
            assert body == (Path(collected) / url.removeprefix("/static/")).read_bytes()


def test_swagger_ui_start_up_script_is_a_file_not_inline(signed_in):
    page = _page(signed_in.get("/api/docs/"))
    script = next(url for url in page.assets if "script" in url)
    answer = signed_in.get(script)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in answer.content


VENDORED_PINS = {
    "graphiql.min.js": "graphiql_sri",
    "graphiql.min.css": "graphiql_css_sri",
    "graphiql-plugin-explorer.umd.js": "graphiql_plugin_explorer_sri",
    "graphiql-plugin-explorer.css": "graphiql_plugin_explorer_css_sri",
    "react.production.min.js": "react_sri",
    "react-dom.production.min.js": "react_dom_sri",
    "graphql-ws.min.js": "subscriptions_transport_ws_sri",
}


@pytest.mark.parametrize("filename", VENDORED_PINS)
def test_vendored_graphiql_files_are_the_ones_graphene_django_pins(filename):
    digest = base64.b64encode(hashlib.sha256((VENDORED / filename).read_bytes()).digest()).decode()
    assert f"sha256-{digest}" == getattr(GraphQLView, VENDORED_PINS[filename])
