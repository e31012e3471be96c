"""The AISYM workbench: a Django web app where each company of a park maps its resources in plain
words and the park's facilitator runs the park (issue 19). One Django app per domain:
``accounts`` (people, roles, audit log), ``parks``, ``companies`` (companies and their listings),
``directory`` (search across parks) and ``api``. Every query of company data goes through
:mod:`cloud.workbench.tenancy`.
"""
