"""The rules that decide whether an exchange may run, as data: which resource, material, waste code or
conversion each applies to, and the permits, risks and next steps it brings, with its citation.

The action plan prefills each opportunity's permits, risks and next steps from the entries that
match it; the facilitator then edits the text. A new rule is a new entry here, never a new branch
in code. Citations name the EU act and article; national law (in Norway the Pollution Control Act,
forurensningsloven, and the Waste Regulations, avfallsforskriften) transposes them and must be
checked with the regulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Rule:
    id: str
    citation: str  # the act and article, as a reader looks it up
    title: object  # lazy text
    permits: tuple = ()
    risks: tuple = ()
    next_steps: tuple = ()
    # an opportunity matches when any of these holds (all lower case; an EWC prefix like "02 01")
    resources: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()  # words in the material's name
    ewc: tuple[str, ...] = ()
    conversions: tuple[str, ...] = ()
    always: bool = False
    extra: dict = field(default_factory=dict)


RULES: tuple[Rule, ...] = (
    Rule(
        id="animal_by_products",
        citation="Regulation (EC) No 1069/2009, Art. 8-10 and 24(1)(g); Regulation (EU) No 142/2011, Annex V",
        title=_("Animal by-products"),
        materials=("fish", "food waste", "manure", "slaughter", "blood", "bone", "whey", "brewers", "bakery", "bread"),
        ewc=("02 01 02", "02 01 06", "02 02", "02 05", "02 06", "20 01 08", "20 01 25"),
        permits=(_("Classify the material as Category 1, 2 or 3 animal by-product (Art. 8-10)."),
                 _("The receiving biogas or composting plant needs approval for that category (Art. 24(1)(g))."),),
        risks=(_("Category 2 material other than manure and digestive tract content must be pressure-sterilised "
                 "before a biogas plant may take it."),
               _("Mixing with other waste can raise the category of the whole load."),),
        next_steps=(_("Ask the food safety authority (in Norway: Mattilsynet) which category applies."),
                    _("Agree on collection, storage time and hygiene at both sites."),),
    ),
    Rule(
        id="by_product_end_of_waste",
        citation="Directive 2008/98/EC (Waste Framework Directive), Art. 5 and 6",
        title=_("Waste, by-product or end-of-waste"),
        resources=("material", "sludge", "biomass"),
        permits=(_("Show that the residue is a by-product (Art. 5: certain further use, used directly, produced as an "
                   "integral part of production, lawful use), or that it has ceased to be waste (Art. 6)."),
                 _("Otherwise it stays waste: the receiver needs a waste treatment permit and each load a waste "
                   "declaration."),),
        risks=(_("If the regulator disagrees that it is a by-product, the exchange needs a waste permit first."),),
        next_steps=(_("Write the by-product case (the four conditions of Art. 5) and send it to the regulator."),
                    _("Agree on a specification the supplier can meet every delivery (dry matter, contaminants)."),),
    ),
    Rule(
        id="waste_water_discharge",
        citation="Directive 91/271/EEC (Urban Waste Water Treatment), Art. 11; Directive 2010/75/EU (Industrial "
                 "Emissions), Art. 14",
        title=_("Water and discharges"),
        resources=("water",),
        permits=(_("A changed effluent needs the discharge permit, or the sewer owner's consent, to be revised "
                   "(Art. 11)."),),
        risks=(_("Reused water may not meet the receiver's process quality every hour (salts, temperature, "
                 "microbes)."),),
        next_steps=(_("Sample the water for a month and compare with the receiver's specification."),
                    _("Ask the municipality or the regulator whether the discharge permit must change."),),
    ),
    Rule(
        id="pressure_equipment",
        citation="Directive 2014/68/EU (Pressure Equipment), Art. 4 and Annex I",
        title=_("Pressure equipment"),
        resources=("steam",),
        conversions=("let-down", "exchanger"),
        permits=(_("Piping, exchangers and vessels above 0.5 bar need the conformity assessment of their category "
                   "(Art. 4, Annex I) and periodic inspection."),),
        risks=(_("A steam line between sites is pressure equipment: design, inspection and who owns it must be "
                 "settled."),),
        next_steps=(_("Have a notified body classify the line and the exchanger."),),
    ),
    Rule(
        id="heat_pump_refrigerant",
        citation="Regulation (EU) 2024/573 (fluorinated greenhouse gases): certification of personnel, leak checks",
        title=_("Heat pump refrigerant"),
        conversions=("heat pump",),
        permits=(_("Installing and servicing a heat pump with fluorinated refrigerant takes certified personnel "
                   "and leak checks by the size of the charge."),),
        risks=(_("Phase-down of fluorinated refrigerants: choose a natural refrigerant (ammonia, CO2, "
                 "hydrocarbons) to avoid a retrofit."),),
        next_steps=(_("Ask two suppliers for a heat pump offer at the simulated source and sink temperatures."),),
    ),
    Rule(
        id="explosive_atmospheres",
        citation="Directive 2014/34/EU (ATEX equipment); Directive 1999/92/EC (ATEX workplaces); "
                 "Directive 2012/18/EU (Seveso III), Annex I",
        title=_("Flammable gases"),
        resources=("biogas", "biomethane", "natural_gas", "hydrogen"),
        permits=(_("Zones with explosive atmospheres must be classified and equipment certified for them."),
                 _("Storing 5 t of hydrogen or 50 t of natural gas or biomethane or more brings the site under "
                   "Seveso III."),),
        risks=(_("Gas quality (methane content, hydrogen sulphide, water) may vary and stop the receiver's "
                 "equipment."),),
        next_steps=(_("Update both sites' explosion protection documents."),),
    ),
    Rule(
        id="electricity_direct_line",
        citation="Directive (EU) 2019/944 (internal electricity market), Art. 7 (direct lines) and Art. 38 "
                 "(closed distribution systems)",
        title=_("Electricity over the fence"),
        resources=("electricity",),
        permits=(_("Power sold to a neighbour needs a direct line or a closed distribution system as national law "
                   "allows (Art. 7, 38); in Norway the regulator (RME) decides on licences."),),
        risks=(_("Grid tariffs and taxes may take most of the saving."),),
        next_steps=(_("Ask the grid operator and the regulator which arrangement applies."),),
    ),
    Rule(
        id="co2_quality",
        citation="EIGA Doc 70 (carbon dioxide: source qualification and quality standards)",
        title=_("CO2 for use"),
        resources=("co2",),
        permits=(_("CO2 for food or greenhouses must meet a purity specification; the source must be qualified."),),
        risks=(_("Trace gases from the source (sulphur, benzene) may rule out food use."),),
        next_steps=(_("Analyse the CO2 stream against the receiver's specification."),),
    ),
    Rule(
        id="every_exchange",
        citation="",
        title=_("Every exchange"),
        always=True,
        permits=(_("Ask the municipality whether the connection (pipe, cable, road transport) needs a building or "
                   "planning permit, and agree on the route with the landowners."),),
        risks=(_("The supplier's output may stop (maintenance, closure): agree on a back-up supply."),),
        next_steps=(_("Meet both companies and agree on a letter of intent."),
                    _("Agree on metering at the delivery point, so the exchange's impact is measured."),
                    _("Agree on price, duration and who owns and runs the connection."),),
    ),
)


def _matches(rule: Rule, resource: str, material: str, ewc: str, conversion: str) -> bool:
    material, ewc = material.lower(), ewc.replace("*", "").strip()
    return (rule.always or resource.lower() in rule.resources or conversion.lower() in rule.conversions
            or any(w in material for w in rule.materials) or any(ewc.startswith(p) for p in rule.ewc if ewc))


def rules_for(resource: str = "", material: str = "", ewc: str = "", conversion: str = "") -> list[Rule]:
    """The rules that apply to an exchange of ``resource`` (its material's words, EWC code, conversion)."""
    return [r for r in RULES if _matches(r, resource or "", material or "", ewc or "", conversion or "")]


def suggestion(rules: list[Rule], part: str) -> str:
    """The text of ``part`` (permits, risks or next_steps) of ``rules``, one line each, each rule's
    citation after its last line."""
    lines = []
    for r in rules:
        texts = [f"- {t}" for t in getattr(r, part)]
        if texts and r.citation:
            texts[-1] += f" [{r.citation}]"
        lines += texts
    return "\n".join(lines)
