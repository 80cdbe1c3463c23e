"""`/api/v1/`: the partner API. Each app registers its viewsets on the one router."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

import accounts.api_schema  # noqa: F401 - registers the API key auth with the OpenAPI schema

router = DefaultRouter(trailing_slash=True)
# The API speaks JSON only (and CSV/XLSX/PDF files from `export/?format=`): no `/datasets/1.json/` suffix routes,
# whose extra `format` argument the actions do not take (a PATCH there was a 500).
router.include_format_suffixes = False


def _register_app_routes():
    from importlib import import_module

    for module in ("datasets.api", "segments.api", "monitoring.api"):
        try:
            api = import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        api.register(router)


_register_app_routes()


def _organization_view():
    from accounts.api_organization import OrganizationView

    return OrganizationView.as_view()


def _leaving_routes():
    from accounts.api_leaving import urlpatterns as leaving_urlpatterns

    return leaving_urlpatterns()


urlpatterns = [
    path("organization/", _organization_view(), name="api-organization"),
    *_leaving_routes(),
    path("", include(router.urls)),
]
