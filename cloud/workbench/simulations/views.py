"""'Test it in the twin': ask for a twin test, watch it run, read what it means for you.

Who sees a job: the company it was asked for (its members), the park's facilitators and admins;
a job asked for the whole park, its facilitators and admins. Anyone else gets 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from cloud.workbench import tenancy
from cloud.workbench.parks.models import Park

from . import runner, store, summary
from .forms import StartForm, TwinSettingsForm
from .models import Job, TwinSettings


def _park_or_404(slug: str) -> Park:
    park = Park.objects.filter(slug=slug).first()
    if park is None:
        raise Http404("no such park")
    return park


def may_see(v: tenancy.Viewer, job: Job) -> bool:
    if not v.signed_in:
        return False
    if job.company_id is not None and job.company_id in v.member_of:
        return True
    return tenancy.can_run_park(v, job.park_id)


def _job_or_404(request, park: str, job: int) -> Job:
    v = tenancy.viewer(request)
    # the impact page's year (kind impact) is shown there, not as a twin test
    j = Job.objects.select_related("park", "company").filter(pk=job, park__slug=park, kind=Job.CANDIDATES).first()
    if j is None or not may_see(v, j):
        raise Http404("no such job")
    return runner.check(j)


@require_POST
@login_required
def start(request, park: str):
    """Simulate the candidates ``key`` (repeated) for ``company`` (or the park); redirect to the job."""
    v = tenancy.viewer(request)
    p = _park_or_404(park)
    form = StartForm(request.POST)
    company = None
    if slug := request.POST.get("company", "").strip():
        company = tenancy.editable_company_or_404(v, p.slug, slug)
    elif not tenancy.can_run_park(v, p.pk):
        raise Http404("no such page")  # only the facilitator tests candidates for the whole park
    if not form.is_valid():
        return _refused(request, p, form.first_error())
    try:
        job = store.submit(p, request.POST.getlist("key"), company=company,
                           set_size=form.cleaned_data["set_size"] or 0,
                           hours=form.cleaned_data["hours"] or 8760.0, user=request.user)
    except store.Refused as e:
        return _refused(request, p, str(e))
    return redirect("simulations:job", park=p.slug, job=job.pk)


def _refused(request, park: Park, why: str):
    return render(request, "simulations/refused.html", {"park": park, "why": why}, status=400)


# the worker's steps (its first word, stored in English) as the viewer reads them
STEPS = {"waiting": _("waiting for a free worker"), "reading": _("reading the park"),
         "ranking": _("ranking the park's candidates"), "preparing": _("preparing the candidates"),
         "simulating": _("simulating the candidates in the twin"), "writing": _("writing the result"),
         "done": _("done")}


def _context(request, job: Job) -> dict:
    v = tenancy.viewer(request)
    step = STEPS.get(job.progress_text.split(" ", 1)[0], job.progress_text) if job.progress_text else _("waiting")
    ctx = {"park": job.park, "job": job, "can_retry": job.state == Job.FAILED, "step": step,
           "elapsed": int(((job.finished or timezone.now()) - (job.started or job.created)).total_seconds())}
    if job.state == Job.DONE and job.result:
        ctx["r"] = summary.view(job, v)
    return ctx


@login_required
def job_page(request, park: str, job: int):
    j = _job_or_404(request, park, job)
    return render(request, "simulations/job.html", _context(request, j))


@login_required
def job_progress(request, park: str, job: int):
    """The job's state and, once done, its result: the partial the job page polls every second."""
    j = _job_or_404(request, park, job)
    return render(request, "simulations/job.html#status", _context(request, j))


@require_POST
@login_required
def retry(request, park: str, job: int):
    """Ask a failed job again (a new job, on the park as it is now)."""
    j = _job_or_404(request, park, job)
    if j.state != Job.FAILED:
        return redirect("simulations:job", park=park, job=j.pk)
    try:
        new = store.submit(j.park, j.keys, company=j.company, set_size=j.set_size, hours=j.hours, user=request.user)
    except store.Refused as e:
        return _refused(request, j.park, str(e))
    return redirect("simulations:job", park=park, job=new.pk)


@login_required
@require_http_methods(["GET", "POST"])
def twin_settings(request, park: str):
    """The park's twin configuration (its Ray cluster): the facilitator's."""
    v = tenancy.viewer(request)
    p = _park_or_404(park)
    if not tenancy.can_run_park(v, p.pk):
        raise Http404("no such page")
    instance = TwinSettings.objects.filter(park=p).first() or TwinSettings(park=p)
    form = TwinSettingsForm(request.POST or None, instance=instance)
    saved = False
    if request.method == "POST" and form.is_valid():
        form.save()
        saved = True
    jobs = Job.objects.filter(park=p, kind=Job.CANDIDATES).select_related("company")[:20]
    return render(request, "simulations/settings.html", {"park": p, "form": form, "saved": saved, "jobs": jobs},
                  status=400 if form.errors else 200)
