"""One error contract: every code raised anywhere is declared once, with its status and details;
the docs' tables are the registry's; GraphQL carries the same details as REST."""

import ast
from pathlib import Path

import pytest
from django.core.management import call_command

from common.errors import GRAPHQL, REGISTRY, REST, codes_for

ROOT = Path(__file__).resolve().parents[2]
APPS = ("common", "partners", "consent", "pathways", "referrals", "hub")
STATUS_OF_CLASS = {
    "ServiceError": 400,
    "NotAuthenticated": 401,
    "NotFound": 404,
    "PermissionDenied": 403,
    "Conflict": 409,
    "TooManyRequests": 429,
}


def _text(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def raised_codes(paths) -> list[tuple[str, str, int | None, tuple[str, ...]]]:
    """(where, code, status of the exception class or None, detail keys) for every literal code
    in the source: exceptions with code=, GraphQL extensions, consent checks, transition refusals
    and the message tables keyed by code."""
    found = []
    for path in paths:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                keywords = {k.arg: k.value for k in node.keywords}
                code = keywords.get("code")
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    extra = keywords.get("extra")
                    details = tuple(k.value for k in extra.keys) if isinstance(extra, ast.Dict) else ()
                    found.append((f"{path}:{node.lineno}", code.value, STATUS_OF_CLASS.get(name), details))
                extensions = keywords.get("extensions")
                if isinstance(extensions, ast.Dict):
                    for key, value in zip(extensions.keys, extensions.values, strict=True):
                        if (
                            isinstance(key, ast.Constant)
                            and key.value == "code"
                            and isinstance(value, ast.Constant)
                        ):
                            found.append((f"{path}:{node.lineno}", value.value, None, ()))
                position = {"ConsentCheck": 1, "Refusal": 0, "_graphql_error": 1, "error_body": 0}.get(name)
                if position is not None and len(node.args) > position:
                    argument = node.args[position]
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        found.append((f"{path}:{node.lineno}", argument.value, None, ()))
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                target = getattr(node.targets[0], "id", "")
                if target.endswith("_MESSAGES"):
                    for key in node.value.keys:
                        if isinstance(key, ast.Constant):
                            found.append((f"{path}:{node.lineno}", key.value, None, ()))
            if isinstance(node, ast.Dict):  # an error body written out: {"code": …, "message": …}
                keys = {k.value: v for k, v in zip(node.keys, node.values, strict=True) if _text(k)}
                if "message" in keys and _text(keys.get("code")):
                    found.append((f"{path}:{node.lineno}", keys["code"].value, None, ()))
    return found


def app_sources():
    return [path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]


def test_every_code_raised_anywhere_is_declared_with_its_status_and_details():
    problems = []
    for where, code, status, details in raised_codes(app_sources()):
        entry = REGISTRY.get(code)
        if entry is None:
            problems.append(f"{where}: {code} is not declared in common/errors.py")
            continue
        if status is not None and status != entry.status and code != "invalid":
            problems.append(f"{where}: {code} raised as HTTP {status}, declared {entry.status}")
        if undeclared := set(details) - set(entry.details):
            problems.append(f"{where}: {code} carries undeclared details {sorted(undeclared)}")
    assert not problems, "\n".join(problems)


def test_the_scan_finds_a_code_nobody_declared(tmp_path):
    module = tmp_path / "wrong.py"
    module.write_text(
        "from common.errors import Conflict\n"
        "def f():\n"
        "    raise Conflict('Nope.', code='made_up_code', extra={'secret': 1})\n"
    )
    assert [(code, status, details) for _where, code, status, details in raised_codes([module])] == [
        ("made_up_code", 409, ("secret",))
    ]


def test_the_dynamic_codes_are_declared_too():
    from referrals import transitions
    from referrals.services import _LINK_MESSAGES, _RECEIVER_MESSAGES

    consent_states = {"consent_withdrawn", "consent_superseded", "consent_expired"}  # f"consent_{state}"
    codes = consent_states | set(_LINK_MESSAGES) | set(_RECEIVER_MESSAGES)
    codes |= {
        transitions.refusal(action, transitions.ReferralState("sent", "a", "b"), caller).code
        for action in transitions.ACTIONS
        for caller in (
            transitions.Caller(organisation_id=None, role=None),
            transitions.Caller(organisation_id="a", role="viewer"),
            transitions.Caller(organisation_id="c", role="caseworker"),
        )
    }
    assert codes - set(REGISTRY) == set()


@pytest.mark.parametrize("surface", [REST, GRAPHQL])
def test_codes_are_valid_names_on_their_surface(surface):
    for entry in codes_for(surface):
        assert entry.code.isidentifier() and entry.code == entry.code.lower()
        if surface == GRAPHQL:
            assert entry.code not in ("true", "false", "null")


def test_the_docs_tables_are_generated_from_the_registry():
    call_command("error_codes", check=True)
