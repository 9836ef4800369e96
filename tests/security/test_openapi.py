"""The OpenAPI document names every error an operation answers, as problem details; what is answered is documented."""

from __future__ import annotations

import re

import pytest

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
async def operations(client) -> list[tuple[str, str, dict]]:
    schema = (await client.get("/schema/openapi.json")).json()
    return [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items() if method in METHODS]


async def test_every_error_an_operation_documents_is_a_problem_with_a_stable_code(client, operations):
    schema = (await client.get("/schema/openapi.json")).json()
    assert {"type", "title", "status", "code"} <= set(schema["components"]["schemas"]["Problem"]["properties"])
    for path, method, op in operations:
        errors = {status: answer for status, answer in op["responses"].items() if status.startswith(("4", "5"))}
        assert {"400", "422", "500"} <= set(errors), (method, path)
        for answer in errors.values():
            assert answer["content"]["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem", (method, path)


async def test_what_an_anonymous_caller_is_answered_is_among_the_documented_answers(client, operations):
    for path, method, op in operations:
        url = re.sub(r"\{[^}]+\}", "999999", path)
        answer = await client.request(method.upper(), url, json={} if method in ("post", "put", "patch") else None)
        assert str(answer.status_code) in op["responses"], (method, path, answer.status_code, answer.text[:200])
        if answer.status_code >= 400:
            assert answer.headers["content-type"].startswith("application/problem+json"), (method, path)
