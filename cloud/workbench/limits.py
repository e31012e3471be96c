"""Refuse a request body over the limit before anything reads it (the CSRF check would parse it).

A 50 MB upload gets a page that says what the limit is, and the body is never spooled to disk.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

MAX_BODY_BYTES = 6 * 1024 * 1024  # the 5 MB sheet limit plus the form around it


class BodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            message = _("The upload is %(size).1f MB; the limit is %(limit)d MB. Nothing was imported.") % {
                "size": length / 1e6, "limit": MAX_BODY_BYTES // 2**20 - 1}
            response = render(request, "too_large.html", {"message": message}, status=413)
            response["Connection"] = "close"  # the unread body is not drained
            return response
        return self.get_response(request)
