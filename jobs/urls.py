from django.urls import path

from jobs import views

app_name = "jobs"

urlpatterns = [
    path("jobs/<int:job_id>/", views.job_status, name="status"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel_view, name="cancel"),
]
