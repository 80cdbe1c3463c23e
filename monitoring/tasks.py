"""Celery tasks: thin wrappers around `monitoring.services` (beat runs the first two every minute)."""

from celery import shared_task


@shared_task(name="monitoring.tasks.run_due_schedules")
def run_due_schedules() -> dict:
    from monitoring.services import schedules_run_due

    return schedules_run_due()


@shared_task(name="monitoring.tasks.retry_due_deliveries")
def retry_due_deliveries() -> int:
    from monitoring.services import deliveries_retry_due

    return deliveries_retry_due()


@shared_task(name="monitoring.tasks.deliver_webhook")
def deliver_webhook(delivery_id: int) -> str:
    from monitoring.services import delivery_attempt

    delivery = delivery_attempt(delivery_id)
    return delivery.status if delivery is not None else "missing"
