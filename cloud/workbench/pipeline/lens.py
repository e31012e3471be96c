"""An opportunity as one viewer may read it: a company's members see a possible partner by name only
where the partner chose to be named (else "a food company 2 km away", as on their opportunities
page), and neither the matchmaking's words nor the candidate's key, which name the partner's assets.
The park's facilitators and admins see everything."""

from __future__ import annotations

from django.utils.translation import gettext as _

from cloud.workbench import tenancy
from cloud.workbench.accounts.models import Membership
from cloud.workbench.opportunities.partners import described


class Lens:
    def __init__(self, v, park) -> None:
        self.runs = tenancy.can_run_park(v, park.pk)
        self.own = set(v.member_of)
        self._members: dict[int, set[int]] | None = None

    def _home(self, opp):
        return next((c for c in (opp.supplier, opp.receiver) if c is not None and c.pk in self.own), None)

    def company(self, company, opp) -> str:
        """How ``company`` of ``opp`` is named to this viewer ("" for none)."""
        if company is None:
            return ""
        if self.runs or company.pk in self.own or company.named_to_partners:
            return company.name
        home = self._home(opp)
        return described(company, home) if home is not None else _("a company in the park")

    def hidden(self, opp) -> bool:
        """Whether a partner of ``opp`` is not named to this viewer."""
        return not self.runs and any(c is not None and c.pk not in self.own and not c.named_to_partners
                                     for c in (opp.supplier, opp.receiver))

    def actor(self, user_id: int | None, name: str, opp) -> str:
        """Who wrote a comment or moved a stage: a partner's member that is not named stays unnamed."""
        if self.runs or user_id is None or not self.hidden(opp):
            return name
        if self._members is None:
            self._members = {}
            for uid, cid in Membership.objects.filter(company__park_id=opp.park_id).values_list("user_id", "company_id"):
                self._members.setdefault(uid, set()).add(cid)
        companies = self._members.get(user_id, set())
        partners = {c.pk for c in (opp.supplier, opp.receiver) if c is not None and c.pk not in self.own
                    and not c.named_to_partners}
        return _("a member of the partner company") if companies & partners and not companies & self.own else name

    def show(self, opp):
        """``opp`` with the names this viewer reads set on it (supplier_shown, receiver_shown, partners_hidden)."""
        opp.supplier_shown = self.company(opp.supplier, opp)
        opp.receiver_shown = self.company(opp.receiver, opp)
        opp.partners_hidden = self.hidden(opp)
        return opp
