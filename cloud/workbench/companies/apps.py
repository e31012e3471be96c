from django.apps import AppConfig


class CompaniesConfig(AppConfig):
    name = "cloud.workbench.companies"
    label = "companies"
