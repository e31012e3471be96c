"""Fixtures of the workbench tests: Django configured on a test database, and a world of two parks.

- ``world``: parks A (fish farm, biogas plant) and B (brewery), imported through the CLI's park
  loader, with one user per role: ``member_a`` (fish farm), ``member_a2`` (biogas plant, park A),
  ``member_b`` (brewery, park B), ``facilitator_a``, ``admin`` and ``nobody`` (signed in, no role);
- ``client_as(name)``: a Django test client signed in as that user (``None``: anonymous).

Each test runs in a transaction rolled back at its end. Passwords use a fast hasher here, except
in the test that checks argon2 itself (the real hasher costs ~0.1 s per hash).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("django", reason="the workbench extra is not installed: pip install -e '.[workbench]'")

# settings read the environment on import: point the data folder at a throwaway directory first
os.environ["DJANGO_SETTINGS_MODULE"] = "cloud.workbench.settings"
os.environ["AISYM_WORKBENCH_DIR"] = tempfile.mkdtemp(prefix="aisym-workbench-test-")

import django

django.setup()

from django.test import Client, override_settings  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

DATA = Path(__file__).parent / "data"
PASSWORD = "correct horse battery staple"
ROLES = ("anonymous", "nobody", "member_a", "member_a2", "member_b", "facilitator_a", "admin")


@pytest.fixture(scope="session")
def django_db_session():
    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    yield
    teardown_databases(old, verbosity=0)


@pytest.fixture
def db(django_db_session):
    from django.db import transaction

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
                           EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        from django.core import mail

        mail.outbox = []  # locmem's outbox lives for the process: each test starts with an empty one
        atomic = transaction.atomic()
        atomic.__enter__()
        from django.db import connection

        if connection.vendor == "postgresql":  # the tests' own set-up writes as the server; requests set their viewer
            with connection.cursor() as cur:
                cur.execute("SELECT set_config('app.system', 'on', true)")
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


class World:
    """Two parks and a user per role."""

    def __init__(self) -> None:
        from django.contrib.auth import get_user_model

        from cloud.workbench.accounts.audit import acting_as
        from cloud.workbench.accounts.models import Facilitator, Membership
        from cloud.workbench.parks.importer import import_park

        self.park_a = import_park(DATA / "two_parks_a.yaml", actor="test")
        self.park_b = import_park(DATA / "two_parks_b.yaml", actor="test")
        self.fish = self.park_a.companies.get(slug="fish")
        self.biogas = self.park_a.companies.get(slug="biogas")
        self.brewery = self.park_b.companies.get(slug="brewery")
        User = get_user_model()
        self.users = {}
        with acting_as(None, "test"):
            for name in ROLES[1:]:
                self.users[name] = User.objects.create_user(name, email=f"{name}@example.org", password=PASSWORD,
                                                            is_superuser=name == "admin")
            Membership.objects.create(user=self.users["member_a"], company=self.fish)
            Membership.objects.create(user=self.users["member_a2"], company=self.biogas)
            Membership.objects.create(user=self.users["member_b"], company=self.brewery)
            Facilitator.objects.create(user=self.users["facilitator_a"], park=self.park_a)

    def client(self, role: str | None) -> Client:
        c = Client()
        if role not in (None, "anonymous"):
            c.force_login(self.users[role])
        return c


@pytest.fixture
def world(db) -> World:
    return World()
