"""Time the staff console's pages on the current database and print a table (see `seed_volume`)."""

import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.test import Client as HttpClient
from django.test.utils import override_settings
from django.utils.http import urlencode

from channels_tiktok.models import Conversation, TikTokAccount, WebhookEvent
from clients.models import BotEvent, Client, DeliveryAttempt, Message


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
        conversation = Conversation.objects.order_by("-pk").first()
        if not (account and message and event and client and conversation):
            raise CommandError("The database is empty: run `manage.py seed_volume --yes` first.")
        comment = WebhookEvent.objects.exclude(comment_id="").order_by("-pk").first()
        comment_id = comment.comment_id if comment else "7300000000000000000"
        # Page 100 (of 50 rows) when the log is that long: a deep page must not cost more than the first.
        deep_page = max(1, min(100, Message.objects.order_by()[:5000].count() // 50))
        accounts = "/admin/channels_tiktok/tiktokaccount/"
        messages = "/admin/clients/message/"
        journal = "/admin/channels_tiktok/webhookevent/"
        pages = [
            ("accounts list", accounts),
            ("accounts: search username", f"{accounts}?{urlencode({'q': account.username})}"),
            ("accounts: search business id", f"{accounts}?{urlencode({'q': account.business_id})}"),
            ("accounts: search conversation", f"{accounts}?{urlencode({'q': conversation.conversation_id})}"),
            ("accounts: search comment id", f"{accounts}?{urlencode({'q': comment_id})}"),
            ("accounts: search message id", f"{accounts}?{urlencode({'q': message.external_id})}"),
            ("accounts: search client id", f"{accounts}?{urlencode({'q': client.external_id})}"),
            ("accounts: unavailable region", f"{accounts}?region=unavailable"),
            ("accounts: missing scope", f"{accounts}?missing=any"),
            ("account page", f"{accounts}{account.pk}/change/"),
            ("message log", messages),
            ("message log: failed", f"{messages}?status__exact=failed"),
            ("message log: inbound", f"{messages}?direction__exact=in"),
            ("message log: kind", f"{messages}?kind__exact=comment_reply"),
            ("message log: source", f"{messages}?source__exact=operator"),
            ("message log: last hour", f"{messages}?since=1h"),
            ("message log: by account", f"{messages}?channel={account.pk}"),
            ("message log: by client", f"{messages}?client={client.pk}"),
            ("message log: search id", f"{messages}?{urlencode({'q': message.external_id})}"),
            (f"message log: page {deep_page}", f"{messages}?p={deep_page}"),
            ("journal", journal),
            ("journal: failed", f"{journal}?status__exact=failed"),
            ("journal: event", f"{journal}?event=comment.update"),
            ("journal: last hour", f"{journal}?since=1h"),
            ("journal: by account", f"{journal}?account={account.pk}"),
            ("journal: failed, account", f"{journal}?status__exact=failed&account={account.pk}"),
            ("journal: search conv.", f"{journal}?{urlencode({'q': event.conversation_id})}"),
            ("journal: search comment", f"{journal}?{urlencode({'q': comment_id})}"),
            ("journal: row", f"{journal}{event.pk}/change/"),
            ("clients", "/admin/clients/client/"),
            ("clients: search id", f"/admin/clients/client/?{urlencode({'q': client.external_id})}"),
            ("clients: by account", f"/admin/clients/client/?channel={account.pk}"),
            ("clients: by channel kind", "/admin/clients/client/?channel__kind__exact=tiktok"),
            ("bot events", "/admin/clients/botevent/"),
            ("bot events: failed", "/admin/clients/botevent/?status__exact=failed"),
            ("bot events: type", "/admin/clients/botevent/?type__exact=account.status"),
            ("delivery attempts", "/admin/clients/deliveryattempt/"),
            ("conversations", "/admin/channels_tiktok/conversation/"),
            ("conversations: search", f"/admin/channels_tiktok/conversation/?q={conversation.conversation_id}"),
            ("conversations: by account", f"/admin/channels_tiktok/conversation/?account={account.pk}"),
            ("conversations: no images", "/admin/channels_tiktok/conversation/?image_send_allowed__exact=0"),
            ("message log: error code", f"{messages}?error_code=quota_exhausted"),
        ]
        self._warn_without_statistics()
        user, _ = get_user_model().objects.get_or_create(
            username="measure-admin", defaults={"is_staff": True, "is_superuser": True}
        )
        http = HttpClient()
        http.force_login(user)
        self.stdout.write(
            f"{connection.vendor}: {Message.objects.count()} messages, {WebhookEvent.objects.count()} journal rows, "
            f"{Client.objects.count()} clients, {BotEvent.objects.count()} bot events, "
            f"{DeliveryAttempt.objects.count()} delivery attempts"
        )
        self.stdout.write(f"{'page':<32} {'median ms':>10} {'max ms':>8} {'queries':>8}  verdict")
        worst = 0.0
        with override_settings(DEBUG=False, ALLOWED_HOSTS=["*"]):
            for label, url in pages:
                timings, queries = self._time(http, url, runs)
                median, peak = statistics.median(timings), max(timings)
                worst = max(worst, median)
                verdict = "ok" if median < budget_ms else "SLOW"
                self.stdout.write(f"{label:<32} {median:>10.1f} {peak:>8.1f} {queries:>8}  {verdict}")
        self.stdout.write(f"worst median: {worst:.1f} ms (budget {budget_ms:.0f} ms)")

    def _warn_without_statistics(self):
        """Plans on never-analysed tables (a fresh bulk load with autovacuum off) are not production's plans."""
        if connection.vendor != "postgresql":
            return
        tables = [Message._meta.db_table, WebhookEvent._meta.db_table]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) "
                "AND last_analyze IS NULL AND last_autoanalyze IS NULL",
                [tables],
            )
            missing = [row[0] for row in cursor.fetchall()]
        if missing:
            self.stderr.write(
                self.style.WARNING(f"Never analysed: {', '.join(missing)}. Run ANALYZE first (seed_volume does).")
            )

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
