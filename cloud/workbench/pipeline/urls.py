from django.urls import path

from . import views

app_name = "pipeline"
urlpatterns = [
    path("", views.pipeline, name="list"),
    path("add/", views.add, name="add"),
    path("import/", views.bulk_import, name="import"),
    path("fill/", views.fill, name="fill"),
    path("assess/", views.assess, name="assess"),
    path("funnel/", views.funnel, name="funnel"),
    path("action-plan/", views.action_plan, name="action_plan"),
    path("action-plan.pdf", views.action_plan_pdf, name="action_plan_pdf"),
    path("<int:opportunity>/", views.detail, name="detail"),
    path("<int:opportunity>/edit/", views.edit, name="edit"),
    path("<int:opportunity>/stage/", views.stage, name="stage"),
    path("<int:opportunity>/comment/", views.comment, name="comment"),
]
