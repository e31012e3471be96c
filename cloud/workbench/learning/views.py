"""Learning inside the tool: the modules' index, a module's page, and its three-question check.

Anyone may read and take the check; a signed-in user's progress (read, checks taken, last and best
score, passed) is kept, and only that user sees it. An anonymous visitor is told nothing is kept.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import content
from .models import PASS_MARK, Progress


def _lang() -> str:
    return content.language(get_language())


def _module_or_404(slug: str) -> content.Module:
    m = content.module(slug, _lang())
    if m is None:
        raise Http404("no such module")
    return m


def _progress(request) -> dict[str, Progress]:
    if not request.user.is_authenticated:
        return {}
    return {p.module: p for p in Progress.objects.filter(user=request.user)}


@require_GET
def index(request):
    mine = _progress(request)
    rows = [{"module": m, "progress": mine.get(m.slug)} for m in content.modules(_lang())]
    return render(request, "learning/index.html", {"rows": rows, "pass_mark": PASS_MARK})


@require_GET
def module(request, module: str):
    m = _module_or_404(module)
    progress = None
    if request.user.is_authenticated:
        # opening the module is reading it: the first time is kept
        progress, _created = Progress.objects.get_or_create(user=request.user, module=m.slug)
        if progress.read is None:
            Progress.objects.filter(pk=progress.pk, read__isnull=True).update(read=timezone.now())
    return _page(request, m, progress=progress)


def _answers(request, m: content.Module) -> tuple[dict[int, int], list[str]]:
    """The answer picked for each question (by index), and one line per question left wrong."""
    picked, errors = {}, []
    for i, q in enumerate(m.questions, start=1):
        raw = request.POST.get(f"q{i}", "").strip()
        if raw == "":
            errors.append(_("Question %(n)s: pick one answer.") % {"n": i})
        elif not raw.isdigit() or int(raw) >= len(q.choices):
            errors.append(_("Question %(n)s: “%(value)s” is not one of its answers.") % {"n": i, "value": raw[:20]})
        else:
            picked[i] = int(raw)
    return picked, errors


@require_POST
def check(request, module: str):
    m = _module_or_404(module)
    picked, errors = _answers(request, m)
    if errors:
        return _page(request, m, picked=picked, errors=errors)  # 200: htmx swaps it in
    score = sum(picked[i] == q.answer for i, q in enumerate(m.questions, start=1))
    progress = None
    if request.user.is_authenticated:
        progress = _record(request.user, m.slug, score)
    return _page(request, m, picked=picked, score=score, progress=progress)


def _record(user, slug: str, score: int) -> Progress:
    """Counts the attempt in one UPDATE (two tabs submitting at once both count)."""
    now = timezone.now()
    with transaction.atomic():
        row, _created = Progress.objects.get_or_create(user=user, module=slug, defaults={"read": now})
        Progress.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1, score=score,
                                                  best=Greatest(Coalesce(F("best"), 0), score))
        if score >= PASS_MARK:
            Progress.objects.filter(pk=row.pk, passed__isnull=True).update(passed=now)
    row.refresh_from_db()
    return row


def _page(request, m: content.Module, *, picked=None, errors=(), score=None, progress=None):
    modules = content.modules(_lang())
    ctx = {
        "m": m, "picked": picked or {}, "errors": errors, "score": score, "progress": progress,
        "pass_mark": PASS_MARK, "passed_now": score is not None and score >= PASS_MARK,
        "questions": [{"n": i, "q": q, "picked": (picked or {}).get(i),
                       "choices": list(enumerate(q.choices)), "answer_text": q.choices[q.answer]}
                      for i, q in enumerate(m.questions, start=1)],
        "next": modules[m.number] if m.number < len(modules) else None,
        "total": len(modules),
    }
    template = "learning/module.html#check" if request.htmx and request.method == "POST" else "learning/module.html"
    return render(request, template, ctx)
