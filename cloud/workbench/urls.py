"""URL configuration: one include per domain app. tests/workbench/test_tenancy_matrix.py walks it."""

from django.urls import include, path

from cloud.workbench.api.api import api

urlpatterns = [
    path("", include("cloud.workbench.parks.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("cloud.workbench.accounts.urls")),
    path("parks/<slug:park>/companies/", include("cloud.workbench.companies.urls")),
    path("directory/", include("cloud.workbench.directory.urls")),
    path("parks/<slug:park>/opportunities/", include("cloud.workbench.opportunities.urls")),
    path("parks/<slug:park>/twin/", include("cloud.workbench.simulations.urls")),
    path("parks/<slug:park>/facilitate/", include("cloud.workbench.facilitation.urls")),
    path("parks/<slug:park>/pipeline/", include("cloud.workbench.pipeline.urls")),
    path("parks/<slug:park>/impact/", include("cloud.workbench.impact.urls")),
    path("learn/", include("cloud.workbench.learning.urls")),
    path("api/", api.urls),
]
