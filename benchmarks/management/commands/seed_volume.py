"""Fill the database with production-like volume for measuring the staff console (not for production!)."""

import datetime as dt
import json
import random

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.models import Conversation, GrantedScope, TikTokAccount, WebhookEvent
from clients.models import BotEvent, Channel, Client, ClientVariable, DeliveryAttempt, Message, Project
from clients.progress import Progress

BATCH = 5000


class Command(BaseCommand):
    help = (
        "Seed accounts, clients, message log rows, webhook journal rows and bot events (with delivery attempts) "
        "for load measurements. Counts add to what is there: pass 0 to skip a table."
    )

    def add_arguments(self, parser):
        parser.add_argument("--messages", type=int, default=1_000_000)
        parser.add_argument("--journal", type=int, default=1_000_000)
        parser.add_argument("--bot-events", type=int, default=200_000, help="each with one delivery attempt")
        parser.add_argument("--accounts", type=int, default=20)
        parser.add_argument("--clients", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--yes", action="store_true", help="Required: this writes a lot of rows.")

    def handle(self, *args, messages, journal, bot_events, accounts, clients, seed, yes, **options):
        if not yes:
            raise CommandError("This writes millions of rows. Pass --yes to confirm.")
        rng = random.Random(seed)
        project, _ = Project.objects.get_or_create(name="Volume test")
        account_rows = self._accounts(project, accounts)
        client_rows = self._clients(account_rows, clients)
        self._messages(client_rows, messages, rng)
        self._journal(account_rows, client_rows, journal, rng)
        self._bot_events(project, client_rows, bot_events, rng)
        self._analyze()
        self.stdout.write(self.style.SUCCESS("Seeded."))

    def _analyze(self):
        # A bulk load leaves the planner without statistics until autovacuum comes by (never, if it is off):
        # measure with the plans production would get.
        if connection.vendor != "postgresql":
            return
        # VACUUM also sets the visibility map (index-only scans) but cannot run inside a transaction.
        statement = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            for model in (Message, WebhookEvent, Client, Conversation, ClientVariable, BotEvent, DeliveryAttempt):
                cursor.execute(f"{statement} {connection.ops.quote_name(model._meta.db_table)}")
        self.stderr.write(f"Statistics updated ({statement}).")

    def _accounts(self, project, count):
        existing = list(TikTokAccount.objects.filter(channel__project=project))
        countries = ["MX", "DE", "BR", "JP", "US", "CA", "TR", "GB"]
        for index in range(len(existing), count):
            with transaction.atomic():
                channel = Channel.objects.create(project=project, name=f"volume{index}")
                account = TikTokAccount.objects.create(
                    channel=channel,
                    business_id=f"volume-business-{index}",
                    username=f"volume{index}",
                    display_name=f"Volume {index}",
                    is_business_account=True,
                    country=countries[index % len(countries)],
                    access_token=f"act.volume{index}",
                    refresh_token=f"rft.volume{index}",
                    access_token_expires_at=timezone.now() + dt.timedelta(hours=20),
                )
                scopes = constants.ALL_SCOPES if index % 3 else constants.MESSAGING_SCOPES
                GrantedScope.objects.bulk_create([GrantedScope(account=account, scope=s) for s in scopes])
            existing.append(account)
        return existing[:count]

    def _clients(self, accounts, count):
        per_account = max(count // len(accounts), 1)
        progress = Progress("clients", per_account * len(accounts), stream=self.stderr)
        rows = []
        for account in accounts:
            have = Client.objects.filter(channel_id=account.pk).count()
            new = [
                Client(channel_id=account.pk, external_id=f"{account.pk}-user-{n}", display_name=f"User {n}")
                for n in range(have, per_account)
            ]
            for start in range(0, len(new), BATCH):
                created = Client.objects.bulk_create(new[start : start + BATCH])
                self._client_state(account, created)
            progress.advance(per_account)
            rows.extend(Client.objects.filter(channel_id=account.pk).values_list("pk", "channel_id"))
        return rows

    @staticmethod
    def _client_state(account, created):
        now = timezone.now()
        Conversation.objects.bulk_create(
            [
                Conversation(
                    client=c,
                    account=account,
                    conversation_id=f"0:1:{c.external_id}",
                    last_inbound_at=now,
                    window_sent=c.pk % 11,
                )
                for c in created
            ]
        )
        ClientVariable.objects.bulk_create(
            [ClientVariable(client=c, key=constants.VAR_CONVERSATION_ID, value=f"0:1:{c.external_id}") for c in created]
        )

    def _messages(self, clients, total, rng):
        progress = Progress("messages", total, stream=self.stderr, every=BATCH * 10)
        statuses = [Message.Status.SENT, Message.Status.READ, Message.Status.FAILED, Message.Status.RECEIVED]
        start_id = Message.objects.count()
        for start in range(0, total, BATCH):
            batch = []
            for n in range(start, min(start + BATCH, total)):
                client_id, channel_id = rng.choice(clients)
                inbound = n % 2 == 0
                status = Message.Status.RECEIVED if inbound else rng.choice(statuses[:3])
                batch.append(
                    Message(
                        client_id=client_id,
                        channel_id=channel_id,
                        direction=Message.Direction.INBOUND if inbound else Message.Direction.OUTBOUND,
                        source=Message.Source.CLIENT if inbound else Message.Source.BOT,
                        status=status,
                        text=f"message {n}",
                        external_id=f"vol-{start_id + n}",
                        error_code="quota_exhausted" if status == Message.Status.FAILED else "",
                    )
                )
            Message.objects.bulk_create(batch)
            progress.advance(len(batch))

    def _journal(self, accounts, clients, total, rng):
        progress = Progress("journal", total, stream=self.stderr, every=BATCH * 10)
        start_id = WebhookEvent.objects.count()
        for start in range(0, total, BATCH):
            batch = []
            for n in range(start, min(start + BATCH, total)):
                account = rng.choice(accounts)
                content = json.dumps({"conversation_id": f"0:1:{account.pk}-user-{n % 1000}", "message_id": f"v{n}"})
                envelope = {
                    "client_key": "volume",
                    "event": constants.EVENT_RECEIVE_MSG,
                    "create_time": 1_700_000_000 + n,
                    "user_openid": account.business_id,
                    "content": content,
                }
                batch.append(
                    WebhookEvent(
                        event=constants.EVENT_RECEIVE_MSG,
                        business_id=account.business_id,
                        account=account,
                        dedupe_key=f"volume:{start_id + n}",
                        raw_body=json.dumps(envelope),
                        status=WebhookEvent.Status.PROCESSED if n % 50 else WebhookEvent.Status.FAILED,
                        conversation_id=f"0:1:{account.pk}-user-{n % 1000}",
                    )
                )
            WebhookEvent.objects.bulk_create(batch)
            progress.advance(len(batch))

    def _bot_events(self, project, clients, total, rng):
        progress = Progress("bot events", total, stream=self.stderr, every=BATCH * 10)
        start_id = BotEvent.objects.count()
        statuses = [BotEvent.DeliveryStatus.DELIVERED] * 8 + [BotEvent.DeliveryStatus.FAILED]
        types = [BotEvent.Type.CLIENT_MESSAGE] * 6 + [BotEvent.Type.MESSAGE_STATUS] * 3 + [BotEvent.Type.ACCOUNT_STATUS]
        for start in range(0, total, BATCH):
            batch = []
            for n in range(start, min(start + BATCH, total)):
                client_id, channel_id = rng.choice(clients)
                event_type = rng.choice(types)
                batch.append(
                    BotEvent(
                        project=project,
                        channel_id=channel_id,
                        client_id=client_id,
                        type=event_type,
                        body={"type": event_type, "text": f"message {n}"},
                        dedupe_key=f"volume:{start_id + n}",
                        status=rng.choice(statuses),
                        attempts=1,
                    )
                )
            created = BotEvent.objects.bulk_create(batch)
            DeliveryAttempt.objects.bulk_create(
                [
                    DeliveryAttempt(
                        event=event,
                        url="https://bot.example.com/hook",
                        response_status=200 if event.status == BotEvent.DeliveryStatus.DELIVERED else 500,
                        error="" if event.status == BotEvent.DeliveryStatus.DELIVERED else "HTTP 500",
                        duration_ms=rng.randint(5, 400),
                    )
                    for event in created
                ]
            )
            progress.advance(len(batch))
