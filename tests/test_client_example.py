"""The TypeScript client example (openapi/client-example) stays buildable and in step with the document.

CI type-checks it against types generated from openapi/openapi.json (openapi/client-example/check.sh);
these checks need no Node: exact pins, the operations it calls exist with those methods, no escape
hatches from the types.
"""

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_transaction

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "openapi" / "client-example"
SOURCES = sorted(path for path in (EXAMPLE / "src").glob("*.ts") if not path.name.endswith(".d.ts"))
EXACT_VERSION = re.compile(r"\d+\.\d+\.\d+")
CALL = re.compile(r"\.(GET|POST|PUT|PATCH|DELETE)\(\s*\"([^\"]+)\"")

# What the example is there to show: sign in, overdue list, evidence upload, approval (with its ETag read).
REQUIRED_CALLS = {
    ("post", "/api/v1/auth/login"),
    ("get", "/api/v1/reports/overdue"),
    ("post", "/api/v1/assignments/{assignment_id}/evidence"),
    ("get", "/api/v1/assignments/{assignment_id}"),
    ("post", "/api/v1/assignments/{assignment_id}/transitions"),
}


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _calls() -> set[tuple[str, str]]:
    return {(method.lower(), path) for source in SOURCES for method, path in CALL.findall(source.read_text(encoding="utf-8"))}


def _code(source: Path) -> str:
    """The source without its comments (a comment may say "any")."""
    text = re.sub(r"/\*.*?\*/", "", source.read_text(encoding="utf-8"), flags=re.DOTALL)
    return re.sub(r"//.*", "", text)


def test_packages_are_pinned_to_exact_versions_and_locked():
    package = _json(EXAMPLE / "package.json")
    pinned = {**package.get("dependencies", {}), **package.get("devDependencies", {})}
    assert {"openapi-typescript", "openapi-fetch", "typescript"} <= pinned.keys()
    loose = {name: version for name, version in pinned.items() if not EXACT_VERSION.fullmatch(version)}
    assert not loose, f"not exact versions: {loose}"

    lock = _json(EXAMPLE / "package-lock.json")
    assert lock["lockfileVersion"] >= 2
    root = lock["packages"][""]
    assert {**root.get("dependencies", {}), **root.get("devDependencies", {})} == pinned, "package-lock.json is stale: run npm install"
    for name, version in pinned.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_scripts_generate_from_the_committed_document_and_type_check():
    scripts = _json(EXAMPLE / "package.json")["scripts"]
    assert scripts["typecheck"] == "tsc --noEmit"
    generator = EXAMPLE / scripts["generate"].removeprefix("node ")
    assert '"../openapi.json"' in generator.read_text(encoding="utf-8")
    check = (EXAMPLE / "check.sh").read_text(encoding="utf-8")
    assert "set -euo pipefail" in check
    assert all(step in check for step in ("npm ci", "generate", "typecheck"))


def test_generated_and_installed_files_are_not_committed():
    ignored = (EXAMPLE / ".gitignore").read_text(encoding="utf-8").split()
    assert {"node_modules/", "src/schema.d.ts", "dist/"} <= set(ignored)


def test_the_operations_the_example_calls_exist_with_those_methods():
    calls = _calls()
    assert REQUIRED_CALLS <= calls, f"the example no longer shows: {REQUIRED_CALLS - calls}"
    paths = _json(ROOT / "openapi" / "openapi.json")["paths"]
    missing = sorted((method, path) for method, path in calls if method not in paths.get(path, {}))
    assert not missing, f"called by the example, absent from openapi/openapi.json: {missing}"


def test_evidence_is_uploaded_as_the_document_says():
    operation = _json(ROOT / "openapi" / "openapi.json")["paths"]["/api/v1/assignments/{assignment_id}/evidence"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"]["format"] == "binary"  # generate.mjs types it as a Blob
    assert "file" in form["required"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_the_example_does_not_escape_the_types(source):
    code = _code(source)
    assert not re.search(r"\bany\b", code), "`any` in the example"
    assert not re.search(r"@ts-(ignore|expect-error|nocheck)", source.read_text(encoding="utf-8"))
    assert not re.search(r"\bas\s+(unknown|never)\b", code), "a double cast in the example"


def test_the_type_check_is_strict():
    options = _json(EXAMPLE / "tsconfig.json")["compilerOptions"]
    assert options["strict"] is True
    assert options["noUncheckedIndexedAccess"] is True
    assert options["skipLibCheck"] is False  # else the generated schema.d.ts itself goes unchecked
