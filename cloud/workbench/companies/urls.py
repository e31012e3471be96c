from django.urls import path

from . import onboarding, views

app_name = "companies"
urlpatterns = [
    path("<slug:company>/", views.company_detail, name="detail"),
    path("<slug:company>/private/", views.company_private, name="private"),
    path("<slug:company>/edit/", views.company_edit, name="edit"),
    path("<slug:company>/estimates/", views.estimate_confirm, name="estimate"),
    path("<slug:company>/listings/<slug:listing>/", views.listing_detail, name="listing"),
    path("<slug:company>/listings/<slug:listing>/edit/", views.listing_edit, name="listing_edit"),
    path("<slug:company>/onboarding/sectors/", onboarding.sector_choices, name="sector_choices"),
    path("<slug:company>/onboarding/resources/", onboarding.resource_choices, name="resource_choices"),
    path("<slug:company>/onboarding/<slug:step>/", onboarding.onboarding, name="onboarding"),
]
