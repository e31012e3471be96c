from django.urls import path

from cloud.workbench.companies.onboarding import join

from . import views

app_name = "parks"
urlpatterns = [
    path("", views.start, name="start"),
    path("join/", join, name="join"),
    path("parks/<slug:park>/", views.park_detail, name="detail"),
    path("parks/<slug:park>/audit/", views.park_audit, name="audit"),
    path("parks/<slug:park>/import/", views.park_import, name="import"),
    path("parks/<slug:park>/map/", views.park_map, name="map"),
    path("parks/<slug:park>/flows/", views.park_flows_view, name="flows"),
    path("parks/<slug:park>/export.yaml", views.park_export, name="export"),
]
