from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("reports/", views.reports, name="reports"),
    path("reports/analyses/<int:analysis_id>/download/", views.download, name="download"),
    path("reports/exports/<int:export_id>/", views.detail, name="detail"),
    path("reports/exports/<int:export_id>/file/", views.file, name="file"),
]
