"""The project's contracts: migrations, the printed GraphQL schema, the OpenAPI schema, deploy checks."""

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
