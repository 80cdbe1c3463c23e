from django.urls import path

from segments import views

app_name = "segments"

urlpatterns = [
    path("", views.analysis_list, name="list"),
    path("new/", views.analysis_new_pick, name="new_pick"),
    path("new/<int:dataset_id>/", views.analysis_new, name="new"),
    path("<int:analysis_id>/", views.analysis_detail, name="detail"),
    path("<int:analysis_id>/profiles/", views.analysis_profiles_view, name="profiles"),
    path("<int:analysis_id>/visualizations/", views.analysis_visualizations, name="visualizations"),
    path("<int:analysis_id>/insights/", views.analysis_insights, name="insights"),
    path("<int:analysis_id>/changes/", views.analysis_changes, name="changes"),
    path("<int:analysis_id>/changes/movers.csv", views.analysis_movers_csv, name="movers_csv"),
    path("<int:analysis_id>/lifetime-value/", views.analysis_lifetime_value, name="lifetime_value"),
    path("<int:analysis_id>/compare/", views.analysis_compare, name="compare"),
    path("<int:analysis_id>/rerun/", views.analysis_rerun, name="rerun"),
    path("<int:analysis_id>/rerun-latest/", views.analysis_rerun_latest, name="rerun_latest"),
    path("<int:analysis_id>/delete/", views.analysis_delete_view, name="delete"),
]
