from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from segsaas import health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("jobs.urls")),
    path("datasets/", include("datasets.urls")),
    path("analyses/", include("segments.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("", include("exports.urls")),
    path("api/quickstart/", views.api_quickstart, name="api_quickstart"),
    path("api/v1/", include("segsaas.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
]

handler404 = "segsaas.api_errors.not_found"
handler400 = "segsaas.api_errors.bad_request"
