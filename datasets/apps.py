from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "datasets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from accounts.models import Organization

        # However an organization is deleted (admin, shell, a future service), its files go once the deletion commits.
        post_delete.connect(_remove_organization_files, sender=Organization, dispatch_uid="datasets.organization_files")


def _remove_organization_files(sender, instance, using, **kwargs) -> None:
    from django.db import transaction

    from datasets.storage import delete_organization_files

    organization_id = instance.pk  # Django clears instance.pk once the deletion is done: keep it now
    transaction.on_commit(lambda: delete_organization_files(organization_id), using=using)
