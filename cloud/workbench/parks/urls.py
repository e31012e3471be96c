from django.urls import path

from . import views

app_name = "parks"
urlpatterns = [
    path("", views.start, name="start"),
    path("parks/<slug:park>/", views.park_detail, name="detail"),
    path("parks/<slug:park>/audit/", views.park_audit, name="audit"),
]
