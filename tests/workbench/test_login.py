"""Sign-in: argon2 hashes, rate-limited failures, secure cookies, one-time links by e-mail."""

from __future__ import annotations

import re

from django.core import mail
from django.test import override_settings

from cloud.workbench.accounts.models import LoginFailure

from .conftest import PASSWORD


def test_passwords_are_hashed_with_argon2(world):
    from django.contrib.auth import get_user_model

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
        u = get_user_model().objects.create_user("argon", password="a long enough password")
    assert u.password.startswith("argon2$argon2id$")


def test_login_sets_cookies_with_secure_flags(world):
    from django.test import Client

    c = Client()
    c.get("/accounts/login/")
    r = c.post("/accounts/login/", {"username": "member_a", "password": PASSWORD})
    assert r.status_code == 302
    for name in ("sessionid", "csrftoken"):
        morsel = r.cookies.get(name) or c.cookies[name]
        assert morsel["secure"] and morsel["httponly"] and morsel["samesite"] == "Lax", name


def test_a_thousand_wrong_passwords_from_one_client_are_rate_limited(world):
    """1,000 wrong passwords from one address: 20 are checked, the rest are refused (429) unhashed."""
    from django.test import Client

    c = Client()
    statuses = [c.post("/accounts/login/", {"username": f"guess{i}", "password": "wrong"}).status_code
                for i in range(1000)]
    assert statuses.count(200) == 20 and statuses.count(429) == 980
    assert LoginFailure.objects.count() == 20  # blocked tries are not even recorded (no hashing, no growth)
    # and even the right password is refused while blocked; another client still gets in
    assert c.post("/accounts/login/", {"username": "member_a", "password": PASSWORD}).status_code == 429
    other = Client(REMOTE_ADDR="10.0.0.2")
    assert other.post("/accounts/login/", {"username": "member_b", "password": PASSWORD}).status_code == 302


def test_five_wrong_passwords_for_one_user_block_that_user(world):
    from django.test import Client

    for i in range(5):
        Client(REMOTE_ADDR=f"10.0.1.{i}").post("/accounts/login/", {"username": "member_a", "password": "x"})
    r = Client(REMOTE_ADDR="10.0.2.1").post("/accounts/login/", {"username": "member_a", "password": PASSWORD})
    assert r.status_code == 429
    assert "Too many failed sign-ins" in r.content.decode()


def test_one_time_login_link_works_once(world):
    from django.test import Client

    c = Client()
    r = c.post("/accounts/link/", {"email": "member_a@example.org"})
    assert r.status_code == 200 and len(mail.outbox) == 1
    url = re.search(r"http://testserver(/accounts/link/\S+/)", mail.outbox[0].body).group(1)
    assert c.get(url).status_code == 200  # a scanner's GET does not use it up
    assert c.post(url).status_code == 302
    assert c.get("/parks/park_a/").status_code == 200  # signed in
    assert Client().post(url).status_code == 404  # used once
    # an unknown address gets the same page and no mail
    r = Client().post("/accounts/link/", {"email": "nobody-here@example.org"})
    assert r.status_code == 200 and len(mail.outbox) == 1


def test_logout_needs_a_post(world):
    c = world.client("member_a")
    assert c.get("/accounts/logout/").status_code == 405
    assert c.post("/accounts/logout/").status_code == 302
    assert c.get("/parks/park_a/").status_code == 302  # back to sign-in
