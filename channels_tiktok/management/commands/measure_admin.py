"""Time the staff console's pages on the current database and print a table (see `seed_volume`)."""

import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.test import Client as HttpClient
from django.test.utils import override_settings

from channels_tiktok.models import TikTokAccount, WebhookEvent
from clients.models import Client, Message


class Command(BaseCommand):
    help = "Measure the response time of every admin list view and the account page (median and max of N runs)."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument("--budget-ms", type=float, default=300.0)

    def handle(self, *args, runs, budget_ms, **options):
        account = TikTokAccount.objects.order_by("pk").first()
        message = Message.objects.order_by("-pk").first()
        event = WebhookEvent.objects.exclude(conversation_id="").order_by("-pk").first()
        client = Client.objects.order_by("-pk").first()
        if not (account and message and event and client):
            raise CommandError("The database is empty: run `manage.py seed_volume --yes` first.")
        pages = [
            ("accounts list", "/admin/channels_tiktok/tiktokaccount/"),
            ("account page", f"/admin/channels_tiktok/tiktokaccount/{account.pk}/change/"),
            ("message log", "/admin/clients/message/"),
            ("message log: failed", "/admin/clients/message/?status__exact=failed"),
            ("message log: inbound", "/admin/clients/message/?direction__exact=in"),
            ("message log: by account", f"/admin/clients/message/?channel__id__exact={account.pk}"),
            ("message log: search id", f"/admin/clients/message/?q={message.external_id}"),
            ("journal", "/admin/channels_tiktok/webhookevent/"),
            ("journal: failed", "/admin/channels_tiktok/webhookevent/?status__exact=failed"),
            ("journal: by account", f"/admin/channels_tiktok/webhookevent/?account__id__exact={account.pk}"),
            ("journal: search conv.", f"/admin/channels_tiktok/webhookevent/?q={event.conversation_id}"),
            ("clients", "/admin/clients/client/"),
            ("clients: search id", f"/admin/clients/client/?q={client.external_id}"),
            ("bot events", "/admin/clients/botevent/"),
            ("conversations", "/admin/channels_tiktok/conversation/"),
        ]
        user, _ = get_user_model().objects.get_or_create(
            username="measure-admin", defaults={"is_staff": True, "is_superuser": True}
        )
        http = HttpClient()
        http.force_login(user)
        self.stdout.write(
            f"{connection.vendor}: {Message.objects.count()} messages, {WebhookEvent.objects.count()} journal rows"
        )
        self.stdout.write(f"{'page':<26} {'median ms':>10} {'max ms':>8} {'queries':>8}  verdict")
        worst = 0.0
        with override_settings(DEBUG=False, ALLOWED_HOSTS=["*"]):
            for label, url in pages:
                timings, queries = self._time(http, url, runs)
                median, peak = statistics.median(timings), max(timings)
                worst = max(worst, median)
                verdict = "ok" if median < budget_ms else "SLOW"
                self.stdout.write(f"{label:<26} {median:>10.1f} {peak:>8.1f} {queries:>8}  {verdict}")
        self.stdout.write(f"worst median: {worst:.1f} ms (budget {budget_ms:.0f} ms)")

    @staticmethod
    def _time(http, url, runs):
        response = http.get(url)  # warm-up: templates, caches
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        timings = []
        with override_settings(DEBUG=True):
            reset_queries()
            http.get(url)
            queries = len(connection.queries)
        for _ in range(runs):
            started = time.perf_counter()
            http.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        return timings, queries
