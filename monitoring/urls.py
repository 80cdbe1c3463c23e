from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.monitoring_page, name="index"),
    path("subscription/", views.subscription, name="subscription"),
    path("webhooks/", views.endpoint_create, name="endpoint_create"),
    path("webhooks/<int:endpoint_id>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("analyses/<int:analysis_id>/schedule/", views.schedule_save, name="schedule"),
]
