from django.urls import path

from . import views

app_name = "opportunities"
urlpatterns = [
    path("split-rule/", views.split_rule, name="split_rule"),
    path("<slug:company>/", views.company_opportunities, name="company"),
    path("<slug:company>/not-interested/", views.not_interested, name="not_interested"),
    path("<slug:company>/hidden/", views.hidden_list, name="hidden"),
    path("<slug:company>/show-again/", views.show_again, name="show_again"),
    path("<slug:company>/named/", views.named, name="named"),
]
