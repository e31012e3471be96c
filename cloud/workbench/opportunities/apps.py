from django.apps import AppConfig


class OpportunitiesConfig(AppConfig):
    name = "cloud.workbench.opportunities"
    label = "opportunities"
