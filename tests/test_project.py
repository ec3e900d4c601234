"""The project's contracts: migrations, the printed GraphQL schema, the OpenAPI schema, deploy checks,
the import layers."""

import os
import shutil
import subprocess
import sys
import tomllib
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
        "ACCOUNT_ACTIVATION_URL": "https://hub.example.org/activate#token={token}",
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
    assert "hub.W003" in result.stdout + result.stderr  # activation links would point at localhost


@pytest.mark.django_db
def test_error_pages_are_json(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# Dependencies point one way (DESIGN §2): import-linter's contracts in pyproject.toml ------------

IMPORT_LINTER = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {contract["id"]: contract for contract in IMPORT_LINTER["contracts"]}
# above every app and never imported by one; they are not shipped
OUTSIDE_THE_LAYERS = {"tests", "benchmarks", "soak"}


def _lint_imports(cwd: Path, **env: str) -> subprocess.CompletedProcess:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [lint_imports, "--no-cache"],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_import_contracts_are_kept():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


def test_every_package_at_the_root_is_in_a_layer():
    # a new app left out of the contract would be free to import anything
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - OUTSIDE_THE_LAYERS
    in_layers = {name.strip() for layer in CONTRACTS["layers"]["layers"] for name in layer.split("|")}
    assert packages == set(IMPORT_LINTER["root_packages"]) == in_layers


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("partners/_wrong_way.py", "import referrals.models", "layers"),
        ("common/_wrong_way.py", "import partners.vocabulary", "layers"),
        ("consent/_wrong_way.py", "import pathways.graph", "layers"),
        ("referrals/facts.py", "import django.db", "pure"),
        ("referrals/disclosure.py", "import partners.models", "pure"),
    ],
)
def test_a_wrong_way_import_breaks_its_contract(tmp_path, module, line, broken):
    for package in IMPORT_LINTER["root_packages"]:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / module).open("a") as source:
        source.write(f"\n{line}\n")

    # the copies must shadow the editable install: lint-imports puts its cwd first on sys.path and
    # PYTHONPATH says the same; the importer named below proves the copies were the ones read
    result = _lint_imports(tmp_path, PYTHONPATH=str(tmp_path))

    assert result.returncode == 1, result.stdout + result.stderr
    for contract_id, contract in CONTRACTS.items():
        verdict = "BROKEN" if contract_id == broken else "KEPT"
        assert f"{contract['name']} {verdict}" in result.stdout, result.stdout
    importer = module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> " in result.stdout, result.stdout
