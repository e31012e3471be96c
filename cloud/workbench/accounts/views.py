"""Sign in (password or a one-time link by e-mail), sign out, with failed logins rate-limited.

The limit is checked before the password is: a blocked client costs no argon2 hash.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.mail import send_mail
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .models import ApiToken, LoginFailure, LoginToken

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_CLIENT = 20  # a shared office behind one address still gets some room
MAX_FAILURES_PER_USER = 5
LINK_VALID = timedelta(minutes=15)


def client_address(request) -> str:
    # the workbench serves 127.0.0.1 directly; behind a proxy, set the proxy to overwrite REMOTE_ADDR
    return request.META.get("REMOTE_ADDR", "")[:64]


def blocked(client: str, username: str) -> bool:
    since = timezone.now() - WINDOW
    recent = LoginFailure.objects.filter(at__gte=since)
    return (recent.filter(client=client).count() >= MAX_FAILURES_PER_CLIENT
            or recent.filter(username=username).count() >= MAX_FAILURES_PER_USER)


def _next(request) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return nxt
    return reverse(settings.LOGIN_REDIRECT_URL)


@require_http_methods(["GET", "POST"])
def login_view(request):
    form = AuthenticationForm(request)
    status, refused = 200, ""
    if request.method == "POST":
        username = request.POST.get("username", "")[:150]
        client = client_address(request)
        if blocked(client, username):
            refused = _("Too many failed sign-ins. Wait 15 minutes, or ask for a sign-in link by e-mail.")
            status = 429
        else:
            form = AuthenticationForm(request, data=request.POST)
            if form.is_valid():
                login(request, form.get_user())
                return redirect(_next(request))
            LoginFailure.objects.create(client=client, username=username)
    return render(request, "accounts/login.html",
                  {"form": form, "refused": refused, "next": request.GET.get("next", "")}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@require_http_methods(["GET", "POST"])
def login_link_request(request):
    """Send a one-time sign-in link to the address, if an account has it (the page says the same either way)."""
    sent = False
    if request.method == "POST":
        email = request.POST.get("email", "").strip()[:254]
        client = client_address(request)
        if blocked(client, email):
            return render(request, "accounts/link.html", {"blocked": True}, status=429)
        user = get_user_model().objects.filter(email__iexact=email, is_active=True).first() if email else None
        if user is not None:
            token = secrets.token_urlsafe(32)
            LoginToken.objects.create(user=user, token_hash=_hash(token))
            url = request.build_absolute_uri(reverse("accounts:link_use", args=[token]))
            send_mail(_("Your AISYM workbench sign-in link"),
                      _("Open this link within 15 minutes to sign in (it works once):\n\n%(url)s\n") % {"url": url},
                      None, [user.email])
        else:
            LoginFailure.objects.create(client=client, username=email)  # guessing addresses counts as failing
        sent = True
    return render(request, "accounts/link.html", {"sent": sent})


@require_http_methods(["GET", "POST"])
def login_link_use(request, token: str):
    """GET shows a button; only the POST signs in (mail scanners that follow links do not use it up)."""
    row = LoginToken.objects.filter(token_hash=_hash(token), used__isnull=True,
                                    created__gte=timezone.now() - LINK_VALID).select_related("user").first()
    if row is None or not row.user.is_active:
        return render(request, "accounts/link_used.html", {"valid": False}, status=404)
    if request.method == "POST":
        row.used = timezone.now()
        row.save(update_fields=["used"])
        login(request, row.user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/link_used.html", {"valid": True})


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """Personal API tokens: made here (shown once), listed by name and first characters, revoked here."""
    new = None
    if request.method == "POST" and request.POST.get("revoke"):
        ApiToken.objects.filter(user=request.user, pk=request.POST["revoke"]).delete()
        return redirect("accounts:tokens")
    if request.method == "POST":
        name = request.POST.get("name", "").strip()[:100] or _("API token")
        new = secrets.token_urlsafe(32)
        ApiToken.objects.create(user=request.user, name=name, token_hash=_hash(new), prefix=new[:8])
    return render(request, "accounts/tokens.html",
                  {"tokens": ApiToken.objects.filter(user=request.user).order_by("-created"), "new": new})
