"""The facilitator's tools of a park (parks/<park>/facilitate/) and the event attendees' pages."""

from django.urls import path

from . import events, views

app_name = "facilitation"
urlpatterns = [
    path("", views.matches, name="matches"),
    path("shortlist/", views.shortlist, name="shortlist"),
    path("shortlist/best/<int:search>/", views.best_set, name="best_set"),
    path("events/", events.events, name="events"),
    path("events/<int:event>/", events.event, name="event"),
    path("events/<int:event>/pairs/", events.pairs, name="pairs"),
    path("events/<int:event>/agenda/", events.agenda, name="agenda"),
    path("event/", events.enter_code, name="enter_code"),
    path("event/<str:code>/", events.event_join, name="event_join"),
    path("card/<str:token>/", events.card, name="card"),
]
