"""The opportunity pipeline and the action plan.

Who sees what (tests/workbench/tenancy_rules_pipeline.py): the park's facilitators and admins
manage every opportunity of the park; a company's members see, and comment on, the opportunities
their company is part of, and nothing of another company's; anyone else gets 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cloud.workbench import tenancy
from cloud.workbench.parks.models import Park

from . import changes
from .forms import AssessForm, CommentForm, FillForm, OpportunityForm, StageForm
from .lens import Lens
from .models import STAGES, STOPPED, Comment, Opportunity


def _park_or_404(slug: str) -> Park:
    park = Park.objects.filter(slug=slug).first()
    if park is None:
        raise Http404("no such park")
    return park


def _runs(v, park) -> bool:
    return tenancy.can_run_park(v, park.pk)


def visible(v, park: Park):
    """The opportunities of ``park`` that ``v`` may see; 404 for whoever has no part in the park."""
    qs = Opportunity.objects.filter(park=park).select_related("supplier", "receiver", "owner")
    if _runs(v, park):
        return qs
    if park.pk not in v.member_parks:
        raise Http404("no such page")
    return qs.filter(Q(supplier_id__in=v.member_of) | Q(receiver_id__in=v.member_of))


def _opportunity_or_404(v, park: Park, pk: int) -> Opportunity:
    opp = visible(v, park).filter(pk=pk).first()
    if opp is None:
        raise Http404("no such opportunity")
    return opp


def _running_park_or_404(request, park: str) -> tuple[object, Park]:
    v = tenancy.viewer(request)
    p = _park_or_404(park)
    if not _runs(v, p):
        raise Http404("no such page")
    return v, p


@login_required
@require_GET
def pipeline(request, park: str):
    v = tenancy.viewer(request)
    p = _park_or_404(park)
    lens = Lens(v, p)
    opps = [lens.show(o) for o in visible(v, p)]
    groups = [(s, label, [o for o in opps if o.stage == s]) for s, label in STAGES]
    return render(request, "pipeline/list.html", {
        "park": p, "groups": groups, "count": len(opps), "runs_park": _runs(v, p),
        "fill_form": FillForm(), "assess_form": AssessForm()})


@login_required
@require_http_methods(["GET", "POST"])
def add(request, park: str):
    _v, p = _running_park_or_404(request, park)
    form = OpportunityForm(request.POST or None, park=p)
    if request.method == "POST" and form.is_valid():
        opp = changes.create(p, request.user, **form.cleaned_data)
        return redirect("pipeline:detail", park=p.slug, opportunity=opp.pk)
    return render(request, "pipeline/edit.html", {"park": p, "form": form, "opp": None},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, park: str, opportunity: int):
    v, p = _running_park_or_404(request, park)
    opp = _opportunity_or_404(v, p, opportunity)
    if request.method == "GET":
        from .plan import texts

        form = OpportunityForm(instance=opp, park=p, initial=texts(opp))  # the rules' suggestions, to edit
    else:
        form = OpportunityForm(request.POST, instance=opp, park=p)
        if form.is_valid():
            form.save()
            return redirect("pipeline:detail", park=p.slug, opportunity=opp.pk)
    return render(request, "pipeline/edit.html", {"park": p, "form": form, "opp": opp},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def detail(request, park: str, opportunity: int):
    v = tenancy.viewer(request)
    p = _park_or_404(park)
    opp = _opportunity_or_404(v, p, opportunity)
    return render(request, "pipeline/detail.html", _detail_context(v, p, opp))


def _detail_context(v, p, opp, **extra) -> dict:
    from .plan import texts

    lens = Lens(v, p)
    lens.show(opp)
    history, comments = list(opp.history.all()), list(opp.comments.all())
    for row in (*history, *comments):
        row.shown_actor = lens.actor(row.user_id, row.actor, opp)
    return {"park": p, "opp": opp, "history": history, "comments": comments,
            "runs_park": _runs(v, p), "texts": texts(opp), "stage_form": extra.pop("stage_form", None) or StageForm(
                initial={"stage": opp.stage}), "comment_form": extra.pop("comment_form", None) or CommentForm(), **extra}


@require_POST  # outermost: a GET is 405 for everyone, signed in or not
@login_required
def stage(request, park: str, opportunity: int):
    v, p = _running_park_or_404(request, park)
    opp = _opportunity_or_404(v, p, opportunity)
    form = StageForm(request.POST)
    if not form.is_valid():
        return render(request, "pipeline/detail.html", _detail_context(v, p, opp, stage_form=form), status=400)
    d = form.cleaned_data
    change = changes.change_stage(opp, d["stage"], request.user, note=d["note"], stop_reason=d["stop_reason"])
    if change is not None and change.problem:
        messages.warning(request, _("Stage changed, but matchmaking was not told: %(why)s") % {"why": change.problem})
    return redirect("pipeline:detail", park=p.slug, opportunity=opp.pk)


@require_POST  # outermost: a GET is 405 for everyone, signed in or not
@login_required
def comment(request, park: str, opportunity: int):
    v = tenancy.viewer(request)
    p = _park_or_404(park)
    opp = _opportunity_or_404(v, p, opportunity)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return render(request, "pipeline/detail.html", _detail_context(v, p, opp, comment_form=form), status=400)
    Comment.objects.create(opportunity=opp, user=request.user, actor=request.user.get_username(),
                           text=form.cleaned_data["text"])
    return redirect("pipeline:detail", park=p.slug, opportunity=opp.pk)


@login_required
@require_http_methods(["GET", "POST"])
def bulk_import(request, park: str):
    from .bulk_import import COLUMNS, Refused, import_rows, read_csv

    _v, p = _running_park_or_404(request, park)
    context, status = {"park": p, "columns": COLUMNS, "stages": [s for s, _l in STAGES]}, 200
    if request.method == "POST":
        upload = request.FILES.get("sheet")
        if upload is None:
            context["refused"], status = _("Choose the CSV file first."), 400
        else:
            try:
                rows = read_csv(upload)
            except Refused as e:
                context["refused"], status = str(e), 400
            else:
                context["result"] = import_rows(p, rows, request.user)
    return render(request, "pipeline/import.html", context, status=status)


@require_POST  # outermost: a GET is 405 for everyone, signed in or not
@login_required
def fill(request, park: str):
    """Put the best candidates of the park's matchmaking into the pipeline, as ideas."""
    from .assess import fill_from_ranking

    _v, p = _running_park_or_404(request, park)
    form = FillForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("How many: a whole number from 1 to 30."))
        return redirect("pipeline:list", park=p.slug)
    try:
        made = fill_from_ranking(p, form.cleaned_data["count"], user=request.user)
    except ValueError as e:  # the park cannot be matched as it stands (e.g. a currency without a EUR rate)
        messages.error(request, _("The park cannot be matched as it is: %(why)s") % {"why": " ".join(str(e).split())})
        return redirect("pipeline:list", park=p.slug)
    messages.success(request, _("%(n)d candidates added to the pipeline as ideas.") % {"n": len(made)})
    return redirect("pipeline:list", park=p.slug)


@require_POST  # outermost: a GET is 405 for everyone, signed in or not
@login_required
def assess(request, park: str):
    """Simulate the pipeline's candidates that this park version has no result for (a year by default):
    as a job of the twin tests (live progress, results shared with the opportunities pages) where
    that app is installed, else here and now."""
    from .assess import assess as run
    from .assess import to_assess

    _v, p = _running_park_or_404(request, park)
    form = AssessForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Hours to simulate: a number from 24 to 8760."))
        return redirect("pipeline:list", park=p.slug)
    hours = form.cleaned_data["hours"]
    keys = list(Opportunity.objects.filter(park=p).exclude(key="").exclude(stage=STOPPED).values_list("key", flat=True))
    try:
        todo, gone = to_assess(p, keys)
    except ValueError as e:  # the park cannot be matched as it stands (e.g. a currency without a EUR rate)
        messages.error(request, _("The park cannot be matched as it is: %(why)s") % {"why": " ".join(str(e).split())})
        return redirect("pipeline:list", park=p.slug)
    if gone:
        messages.warning(request, _("No longer candidates of the park as it is now: %(keys)s") % {"keys": ", ".join(gone)})
    if not todo:
        messages.success(request, _("Every opportunity of the pipeline is assessed on the park as it is now."))
        return redirect("pipeline:action_plan", park=p.slug)
    try:
        job = _submit(p, todo, hours, request.user)
    except ValueError as e:  # the twin tests refused it (their Refused names the field at fault)
        messages.error(request, str(e))
        return redirect("pipeline:list", park=p.slug)
    if job is not None:
        if len(job.keys) < len(todo):
            messages.info(request, _("The twin simulates the first %(most)d of %(n)d candidates: assess again for the "
                                     "others once it is done.") % {"n": len(todo), "most": len(job.keys)})
        else:
            messages.info(request, _("The twin simulates %(n)d candidates; the action plan shows them once the job "
                                     "is done.") % {"n": len(todo)})
        return redirect("simulations:job", park=p.slug, job=job.pk)
    done, _gone = run(p, todo, hours=hours)
    messages.success(request, _("%(n)d opportunities assessed in the twin.") % {
        "n": sum(1 for a in done.values() if "row" in a.data)})
    return redirect("pipeline:action_plan", park=p.slug)


def _submit(park, keys: list[str], hours: float, user):
    """A job of the twin tests for ``keys`` (the park's facilitator asking), or None without that app."""
    try:
        from cloud.workbench.simulations import store
    except ImportError:
        return None
    return store.submit(park, keys[:store.MAX_KEYS], hours=hours, user=user)  # the rest: on the next click


@login_required
@require_GET
def funnel(request, park: str):
    from .funnel import bars
    from .funnel import funnel as count

    v = tenancy.viewer(request)
    p = _park_or_404(park)
    stages = count(visible(v, p).prefetch_related("history"))
    drawn = bars(stages)
    return render(request, "pipeline/funnel.html", {"park": p, "stages": stages, "bars": drawn,
                                                    "svg_height": int(drawn[-1]["y"] + drawn[-1]["h"]) + 2,
                                                    "total": sum(s.now for s in stages)})


@login_required
@require_GET
def action_plan(request, park: str):
    from .plan import plan_context

    v = tenancy.viewer(request)
    p = _park_or_404(park)
    return render(request, "pipeline/action_plan.html", plan_context(v, p, visible(v, p), request.user))


@login_required
@require_GET
def action_plan_pdf(request, park: str):
    """The same page as :func:`action_plan`, rendered for this viewer, printed by headless Chromium."""
    from .pdf import PrintFailed, print_pdf
    from .plan import plan_context

    v = tenancy.viewer(request)
    p = _park_or_404(park)
    html = render_to_string("pipeline/action_plan.html", plan_context(v, p, visible(v, p), request.user, pdf=True),
                            request=request)
    try:
        pdf = print_pdf(html)
    except PrintFailed as e:
        return HttpResponse(_("The PDF could not be printed: %(why)s") % {"why": e}, status=503,
                            content_type="text/plain; charset=utf-8")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="action-plan-{p.slug}.pdf"'
    return response
