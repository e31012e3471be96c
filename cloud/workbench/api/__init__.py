"""The JSON API (django-ninja) with its OpenAPI schema, under the same tenancy as the pages."""
