"""The project's contracts: migrations, the printed GraphQL schema, the OpenAPI schema, deploy checks."""

import ast
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def test_migrations_are_in_sync_with_models(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)


def test_graphql_schema_file_is_up_to_date():
    from hub.schema import schema

    checked_in = (ROOT / "graphql" / "schema.graphql").read_text()
    assert checked_in.strip() == str(schema).strip(), "graphql/schema.graphql is stale: run `make schema`"


def test_graphql_contract_folder_is_not_a_python_package():
    # a package named graphql would shadow graphql-core
    assert not (ROOT / "graphql" / "__init__.py").exists()


def test_openapi_schema_generates_without_warnings(db):
    out, err = StringIO(), StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=err)
    assert "openapi: 3" in out.getvalue()
    assert "Warning" not in err.getvalue(), err.getvalue()


def test_check_deploy_is_clean_with_debug_off_and_a_real_secret():
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "a-real-secret-" + "k" * 60,
        "ALLOWED_HOSTS": "hub.example.org",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "FIELD_HMAC_KEY": "a-real-hmac-key-" + "h" * 40,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_a_secret_from_the_environment():
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    env["DEBUG"] = "0"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert "hub.W001" in result.stdout + result.stderr


@pytest.mark.django_db
def test_error_pages_are_json(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# Dependencies point one way: hub → referrals → {pathways, consent} → partners → common -------

APPS_BELOW = {
    "common": set(),
    "partners": {"common"},
    "consent": {"partners", "common"},
    "pathways": {"partners", "common"},
    "referrals": {"pathways", "consent", "partners", "common"},
}
PURE_MODULES = ("pathways/graph.py", "pathways/conditions.py", "pathways/drawing.py")


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("app", APPS_BELOW)
def test_an_app_imports_only_the_apps_below_it(app):
    known = {*APPS_BELOW, "hub"}
    wrong = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / app).rglob("*.py")
        for module in _imported_modules(path)
        if (top := module.split(".")[0]) in known and top != app and top not in APPS_BELOW[app]
    }
    assert not wrong, sorted(wrong)


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_pathway_modules_import_neither_django_nor_another_app(module):
    forbidden = {"django", "rest_framework", "graphene", "graphene_django", "hub", *APPS_BELOW} - {"pathways"}
    assert not {name.split(".")[0] for name in _imported_modules(ROOT / module)} & forbidden
