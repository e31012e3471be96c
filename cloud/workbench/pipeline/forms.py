# ruff: noqa: RUF012  (Django idiom: Meta options are class-level lists)
"""The pipeline's forms: an opportunity, a stage change, a comment, the action plan's texts."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import STAGES, STOPPED, Opportunity


def owners(park, opp: Opportunity | None = None):
    """Who may own an opportunity: the park's facilitators and the members of its companies."""
    q = Q(facilitations__park=park) | Q(memberships__company__park=park)
    return get_user_model().objects.filter(q).distinct().order_by("username")


class OpportunityForm(forms.ModelForm):
    class Meta:
        model = Opportunity
        fields = ["title", "supplier", "receiver", "resource", "owner", "notes", "permits", "risks", "next_steps"]
        widgets = {k: forms.Textarea(attrs={"rows": 4}) for k in ("notes", "permits", "risks", "next_steps")}

    def __init__(self, *args, park, **kwargs):
        super().__init__(*args, **kwargs)
        self.park = park
        for side in ("supplier", "receiver"):
            self.fields[side].queryset = park.companies.all()
        self.fields["owner"].queryset = owners(park)
        self.fields["owner"].label_from_instance = lambda u: u.get_username()
        self.fields["title"].help_text = _("Both companies' members read it: name a partner only if it agreed to be "
                                           "named to the other.")
        for part in ("permits", "risks", "next_steps"):
            self.fields[part].help_text = _("Left empty, the action plan shows the rules that apply (cited).")


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=_("New stage"), choices=STAGES)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    stop_reason = forms.CharField(label=_("Why it stopped (when stopping)"), required=False, max_length=300)

    def clean(self):
        data = super().clean()
        if data.get("stage") == STOPPED and not (data.get("stop_reason") or "").strip():
            self.add_error("stop_reason", _("Say why the opportunity stopped: matchmaking learns from it."))
        return data


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Your comment"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class FillForm(forms.Form):
    count = forms.IntegerField(label=_("How many of the best candidates"), min_value=1, max_value=30, initial=5)


class AssessForm(forms.Form):
    hours = forms.FloatField(label=_("Hours to simulate (scaled to a year)"), min_value=24, max_value=8760,
                             initial=8760)
