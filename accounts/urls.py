from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("org/switch/", views.switch_org, name="switch_org"),
    path("org/none/", views.no_organization, name="no_organization"),
    path("members/", views.members, name="members"),
    path("members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/accept/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<str:key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("audit/", views.audit_log, name="audit_log"),
    path("organization/", views.organization_settings, name="organization_settings"),
    path("organization/logo/", views.organization_logo, name="organization_logo"),
    path("organization/archive/", views.organization_archive, name="organization_archive"),
    path(
        "organization/archive/<int:job_id>/download/",
        views.organization_archive_download,
        name="organization_archive_download",
    ),
    path("organization/delete/", views.organization_delete, name="organization_delete"),
    path("organization/restore/", views.organization_restore, name="organization_restore"),
    path("account/", views.account, name="account"),
]
