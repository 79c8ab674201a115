"""Celery tasks of the bot builder's side: thin wrappers around the delivery service."""

from celery import shared_task

from . import delivery


@shared_task(name="clients.tasks.deliver_bot_event")
def deliver_bot_event(event_id: int) -> None:
    delivery.deliver(event_id=event_id)


@shared_task(name="clients.tasks.sweep_bot_events")
def sweep_bot_events() -> int:
    return delivery.sweep()


@shared_task(name="clients.tasks.prune_bot_events")
def prune_bot_events() -> int:
    return delivery.prune()
