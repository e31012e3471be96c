"""A module's three-question check: right and wrong answers explained after submitting, the score
kept per user (best, attempts, passed), a missing or odd answer named, and nothing kept for a visitor."""

from __future__ import annotations

from cloud.workbench.learning import content
from cloud.workbench.learning.models import Progress

SLUG = "reading-a-match"


def _answers(right: int) -> dict[str, str]:
    """Answers with the first ``right`` questions right and the others wrong."""
    qs = content.module(SLUG, "en").questions
    return {f"q{i}": str(q.answer if i <= right else (q.answer + 1) % len(q.choices))
            for i, q in enumerate(qs, start=1)}


def test_right_and_wrong_answers_are_explained_and_kept(world):
    c = world.client("member_a")
    r = c.post(f"/learn/{SLUG}/check/", _answers(1))
    body = r.content.decode()
    assert r.status_code == 200 and "You got 1 of 3 right." in body and "Check passed." not in body
    assert body.count("Right.") == 1 and body.count("Not this one: the answer is") == 2
    q2 = content.module(SLUG, "en").questions[1]
    assert q2.why in body.replace("&#x27;", "'") and q2.choices[q2.answer] in body
    p = Progress.objects.get(user=world.users["member_a"], module=SLUG)
    assert (p.attempts, p.score, p.best, p.passed) == (1, 1, 1, None) and p.read is not None
    r = c.post(f"/learn/{SLUG}/check/", _answers(3), HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert "<html" not in body and "You got 3 of 3 right." in body and "Check passed." in body  # the htmx partial
    c.post(f"/learn/{SLUG}/check/", _answers(0))
    p.refresh_from_db()
    assert (p.attempts, p.score, p.best) == (3, 0, 3) and p.passed is not None  # the best and the pass stay


def test_progress_is_per_user_and_shown_only_to_its_owner(world):
    world.client("member_a").post(f"/learn/{SLUG}/check/", _answers(2))
    mine = world.client("member_a").get("/learn/").content.decode()
    assert "passed: best 2 of 3 (1 try)" in mine
    theirs = world.client("member_a2").get("/learn/").content.decode()
    assert "passed: best" not in theirs and theirs.count("not taken") == 5
    assert not Progress.objects.filter(user=world.users["member_a2"]).exists()


def test_a_visitor_is_graded_but_nothing_is_kept(world):
    r = world.client("anonymous").post(f"/learn/{SLUG}/check/", _answers(3))
    assert "You got 3 of 3 right." in r.content.decode() and "Not kept: you are not signed in." in r.content.decode()
    assert not Progress.objects.exists()
    index = world.client("anonymous").get("/learn/").content.decode()
    assert "your progress is not kept" in index and "not taken" not in index


def test_a_missing_or_odd_answer_is_named_and_the_rest_kept(world):
    c = world.client("member_b")
    r = c.post(f"/learn/{SLUG}/check/", {"q1": "0", "q3": "7"})
    body = r.content.decode()
    assert "Question 2: pick one answer." in body and "Question 3: “7” is not one of its answers." in body
    assert 'id="q1-0" value="0" checked' in body  # what was picked stays picked
    assert not Progress.objects.filter(user=world.users["member_b"]).exists()
    assert c.get(f"/learn/{SLUG}/check/").status_code == 405
    assert c.post("/learn/nothing-here/check/", _answers(3)).status_code == 404
