from django.urls import path

from datasets import views

app_name = "datasets"

urlpatterns = [
    path("", views.dataset_list, name="list"),
    path("upload/", views.dataset_upload, name="upload"),
    path("synthetic/", views.dataset_synthetic, name="synthetic"),
    path("<int:dataset_id>/", views.dataset_detail, name="detail"),
    path("<int:dataset_id>/versions/", views.dataset_add_version, name="add_version"),
    path("<int:dataset_id>/roles/", views.dataset_roles, name="roles"),
    path("<int:dataset_id>/kind/", views.dataset_kind, name="kind"),
    path("<int:dataset_id>/delete/", views.dataset_delete, name="delete"),
    path("<int:dataset_id>/original/", views.dataset_download_original, name="download_original"),
]
