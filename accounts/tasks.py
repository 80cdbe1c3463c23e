"""Celery beat: purge organizations whose deletion grace period has passed (thin: the rules are in accounts.leaving)."""

from celery import shared_task


@shared_task(name="accounts.tasks.purge_deleted_organizations")
def purge_deleted_organizations() -> list[str]:
    from accounts.leaving import organizations_purge_due

    return organizations_purge_due()
