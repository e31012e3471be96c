"""The API: JSON with an OpenAPI schema, personal tokens, the same tenancy as the pages."""

from __future__ import annotations

import re

from django.test import Client


def _token(world, role: str) -> str:
    page = world.client(role).post("/accounts/tokens/", {"name": "data space connector"}).content.decode()
    return re.search(r"<code>([A-Za-z0-9_-]{40,})</code>", page).group(1)


def test_openapi_schema_lists_the_endpoints(world):
    schema = Client().get("/api/openapi.json").json()
    assert schema["info"]["title"] == "AISYM workbench"
    assert {"/api/companies", "/api/parks/{park}/companies/{company}",
            "/api/parks/{park}/companies/{company}/private"} <= set(schema["paths"])
    assert {"SessionAuth", "TokenAuth"} <= set(schema["components"]["securitySchemes"])


def test_a_token_reads_as_its_user_with_the_same_tenancy(world):
    token = _token(world, "member_a2")  # biogas plant, park A
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    fish = api.get("/api/parks/park_a/companies/fish").json()
    assert fish["tier"] == 1 and fish["listings"][0]["quantity"] == 900 and "cost" not in fish["listings"][0]
    assert api.get("/api/parks/park_a/companies/fish/private").status_code == 404
    assert api.get("/api/parks/park_a/companies/biogas/private").json()["listings"][0]["cost"] == 120
    names = {c["id"]: c for c in api.get("/api/companies").json()}
    assert set(names) == {"fish", "biogas", "brewery"} and "quantity" not in str(names["brewery"])


def test_a_wrong_or_revoked_token_gets_401(world):
    assert Client(HTTP_AUTHORIZATION="Bearer nope").get("/api/companies").status_code == 401
    token = _token(world, "member_a")
    from cloud.workbench.accounts.models import ApiToken

    row = ApiToken.objects.get(user=world.users["member_a"])
    assert row.token_hash != token and row.prefix == token[:8]  # only the hash is kept
    world.client("member_a").post("/accounts/tokens/", {"revoke": row.pk})
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/companies").status_code == 401
