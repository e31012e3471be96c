"""Bulk import of opportunities from a CSV sheet: each bad row refused as ``row N: field: why``, the
good rows kept; a file that cannot be read is refused in one line naming it, nothing imported."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cloud.workbench.pipeline.models import Opportunity

SHEET = """title,supplier,receiver,resource,stage,owner,notes,stop_reason
Sludge to the digester,fish,Biogas plant,material,contacted,member_a,met at the workshop,
,fish,,material,idea,,no title,
Heat to the hatchery,biogas,fish,heat,dreaming,,,
Digestate to farmers,biogas,,material,stopped,,,
Manure from a farm,nowhere,,material,idea,,,
Water reuse,fish,,water,idea,member_b,,
Fish silage,fish,,material,stopped,facilitator_a,,no buyer this year
"""


def _post(client, text: str | bytes, name: str = "workshop.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(reverse("pipeline:import", kwargs={"park": "park_a"}),
                       {"sheet": SimpleUploadedFile(name, data, content_type="text/csv")})


def test_bad_rows_are_refused_and_the_good_ones_kept(world):
    r = _post(world.client("facilitator_a"), SHEET)
    assert r.status_code == 200
    body = r.content.decode()
    made = {o.title: o for o in Opportunity.objects.filter(park=world.park_a)}
    assert set(made) == {"Sludge to the digester", "Fish silage"}
    sludge = made["Sludge to the digester"]
    assert (sludge.supplier, sludge.receiver, sludge.stage, sludge.owner.username) == (
        world.fish, world.biogas, "contacted", "member_a")
    assert [(h.from_stage, h.to_stage) for h in sludge.history.all()] == [("", "contacted")]
    assert made["Fish silage"].stop_reason == "no buyer this year"
    for problem in ("row 3: title: required",
                    "row 4: stage: dreaming is not one of idea, contacted, feasibility, agreed, running, stopped",
                    "row 5: stop_reason: a stopped opportunity needs the reason",
                    "row 6: supplier: no company nowhere in this park",
                    "row 7: owner: member_b is neither a facilitator of this park nor a member of one of its companies"):
        assert problem in body, problem
    assert "2 opportunities imported." in body


def test_an_unreadable_sheet_is_refused_whole(world):
    fac = world.client("facilitator_a")
    r = _post(fac, "title,colour\nA,red\n", "colours.csv")
    assert r.status_code == 400
    assert "colours.csv: row 1: unknown column(s) colour" in r.content.decode()
    r = _post(fac, "\xff\xfe not text".encode("latin-1"), "binary.csv")
    assert r.status_code == 400 and "binary.csv: not UTF-8 text" in r.content.decode()
    r = _post(fac, "supplier\nfish\n", "no_title.csv")
    assert "no_title.csv: row 1: no title column" in r.content.decode()
    assert not Opportunity.objects.exists()


def test_only_the_facilitator_imports(world):
    for role in ("member_a", "member_a2", "member_b"):
        assert _post(world.client(role), SHEET).status_code == 404
    assert not Opportunity.objects.exists()


def test_a_rows_key_must_name_a_candidate_of_the_park(db):
    """A key is checked against the park's matchmaking; the candidate fills what the row leaves blank."""
    from cloud.workbench import engine
    from cloud.workbench.parks.importer import import_park
    from cloud.workbench.pipeline.bulk_import import import_rows

    from .conftest import DATA

    park = import_park(DATA / "bakery_park.yaml", actor="test")
    key = engine.key(engine.rank(park).candidates[0])
    result = import_rows(park, [{"title": "From the ranking", "key": key},
                                {"title": "Made up", "key": "bakery.nothing>biogas.feed:direct"}], None)
    assert [o.title for o in result.created] == ["From the ranking"]
    assert result.problems == ["row 3: key: not a candidate of the park as it is now (see the opportunities page)"]
    opp = result.created[0]
    assert (opp.supplier.slug, opp.receiver.slug, opp.resource, opp.conversion) == ("bakery", "greenhouse", "heat", "direct")
