"""The bot builder's side, channel-agnostic: projects and their API keys, channels, clients, variables,
the message log and the bot events outbox with its delivery attempts."""

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import MD5
from django.utils.translation import gettext_lazy as _

from .fields import EncryptedTextField
from .netguard import validate_callback_url

if TYPE_CHECKING:
    from .window_info import WindowInfo


class Project(models.Model):
    """A tenant: one bot of the chatbot builder, with the people who own it."""

    name = models.CharField(_("name"), max_length=200)
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="projects",
        blank=True,
        verbose_name=_("owners"),
        help_text=_("People who may connect and manage this project's channels."),
    )
    callback_url = models.URLField(
        _("callback URL"),
        max_length=500,
        blank=True,
        help_text=_("Where bot events are POSTed. Empty: events are only served by the pull feed."),
        validators=[validate_callback_url],
    )
    callback_secret = EncryptedTextField(
        _("callback secret"), blank=True, help_text=_("Signs the X-Signature header of pushed bot events.")
    )
    button_text_fallback = models.BooleanField(
        _("buttons also as text"),
        default=False,
        help_text=_(
            "Button cards also list their buttons as numbered text, for clients on TikTok Desktop (which does not "
            "show button cards); a typed number or button title counts as a tap."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A key the bot builder authenticates with. Only a SHA-256 hash of the secret part is stored."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("project"))
    name = models.CharField(_("name"), max_length=100, help_text=_("What this key is used by."))
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, help_text=_("Public part of the key."))
    hashed_secret = models.CharField(
        max_length=64, help_text=_("SHA-256 of the secret part, hex."), verbose_name=_("hashed secret")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Channel(models.Model):
    """A connected messaging account of a project. The TikTok account shares this row's primary key."""

    class Kind(models.TextChoices):
        TIKTOK = "tiktok", "TikTok"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="channels", verbose_name=_("project"))
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TIKTOK, verbose_name=_("kind"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        indexes = [models.Index(fields=["project", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name or self.pk}"


class Client(models.Model):
    """An end user of a channel, identified by the channel's stable user id."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="clients", verbose_name=_("channel"))
    external_id = models.CharField(
        _("external id"), max_length=128, help_text=_("The channel's stable user id (TikTok: unique_identifier).")
    )
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    username = models.CharField(_("username"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_message_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last message at"))

    # Not stored: set by services.upsert_clients on a user it created in the current transaction (nothing else can
    # refer to it yet, so its variables, messages and conversation need not be read).
    created_here: bool = False

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="client_unique_per_channel"),
        ]
        indexes = [
            models.Index(fields=["external_id"]),
            models.Index(fields=["channel", "-last_message_at"]),
            models.Index(fields=["username"]),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username or self.external_id


class ClientVariable(models.Model):
    """A key/value variable of a client. `tiktok_*` keys are maintained by the channel (R13)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="variables", verbose_name=_("client"))
    key = models.CharField(_("key"), max_length=100)
    value = models.TextField(_("value"), blank=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("client variable")
        verbose_name_plural = _("client variables")
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="variable_unique_per_client")]
        # Lookups by key and exact value (a channel finds a client by an id it stored) go through the value's md5:
        # a btree entry of the value itself fails above PostgreSQL's ~2.7 kB row limit, and values can be longer.
        indexes = [models.Index(F("key"), MD5("value"), name="variable_key_value_md5")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class Message(models.Model):
    """The message log: every message in or out of a channel, with its delivery state."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("inbound")
        OUTBOUND = "out", _("outbound")

    class Kind(models.TextChoices):
        TEXT = "text", _("text")
        IMAGE = "image", _("image")
        BUTTONS = "buttons", _("buttons")
        SHARE_POST = "share_post", _("shared video")
        STICKER = "sticker", _("sticker")
        EMOJI = "emoji", _("emoji")
        VIDEO = "video", _("video")
        TEMPLATE = "template", _("template message")
        OTHER = "other", _("other type")
        BUTTON_TAP = "button_tap", _("button tap")
        COMMENT = "comment", _("comment")
        COMMENT_REPLY = "comment_reply", _("comment reply")
        UNSUPPORTED = "unsupported", _("unsupported")
        BLOCKED = "blocked", _("blocked by region")

    class Source(models.TextChoices):
        CLIENT = "client", _("client")
        BOT = "bot", _("bot")
        OPERATOR = "operator", _("operator in the TikTok app")
        AUTO = "auto", _("automatic message of the channel")

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        DELIVERED = "delivered", _("delivered")
        READ = "read", _("read")
        FAILED = "failed", _("failed")
        BLOCKED = "blocked", _("blocked")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages", verbose_name=_("channel"))
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="messages",
        null=True,
        blank=True,
        help_text=_("Empty when the channel did not say who wrote (a user in a restricted region)."),
        verbose_name=_("client"),
    )
    direction = models.CharField(max_length=3, choices=Direction.choices, verbose_name=_("direction"))
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TEXT, verbose_name=_("kind"))
    source = models.CharField(max_length=10, choices=Source.choices, verbose_name=_("source"))
    status = models.CharField(max_length=10, choices=Status.choices, verbose_name=_("status"))
    text = models.TextField(blank=True, verbose_name=_("text"))
    payload = models.JSONField(
        default=dict, blank=True, help_text=_("Structured content: buttons, media, ids."), verbose_name=_("payload")
    )
    # NULL, not "", for "no id yet": the unique constraint must ignore messages TikTok has not numbered.
    external_id = models.CharField(  # noqa: DJ001
        _("channel message id"),
        max_length=128,
        null=True,
        blank=True,
        help_text=_("TikTok's message id (or comment id for comments and replies)."),
    )
    error_code = models.CharField(_("error code"), max_length=50, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))
    # Not stored: set on the message a send returns (whether it took the window's last message, and the window
    # after it) for the API's answer.
    last_message: bool
    window: "WindowInfo | None"

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "direction", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_unique_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "-id"]),
            models.Index(fields=["channel", "-id"]),
            models.Index(fields=["external_id"]),
            models.Index(fields=["status", "-id"]),
            models.Index(fields=["direction", "-id"]),
            models.Index(fields=["error_code", "-id"]),
            # The admin's filters, each with the list's ordering (newest first), and the account page's chart.
            models.Index(fields=["kind", "-id"]),
            models.Index(fields=["source", "-id"]),
            models.Index(fields=["channel", "created_at", "direction"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.get_kind_display()} #{self.pk}"


class BotEvent(models.Model):
    """The outbox: an event for the project's bot, pushed to its callback URL and served by the pull feed."""

    class Type(models.TextChoices):
        CLIENT_MESSAGE = "client.message", "client.message"
        MESSAGE_STATUS = "message.status", "message.status"
        OPERATOR_MESSAGE = "operator.message", "operator.message"
        ACCOUNT_STATUS = "account.status", "account.status"
        CLIENT_MESSAGE_BLOCKED = "client.message_blocked", "client.message_blocked"
        CLIENT_REACTION = "client.reaction", "client.reaction"
        COMMENT_STATUS = "comment.status", "comment.status"
        CLIENT_REFERRAL = "client.referral", "client.referral"
        CLIENT_HIGH_INTENT_COMMENT = "client.high_intent_comment", "client.high_intent_comment"
        WINDOW_CLOSING = "window.closing", "window.closing"
        WINDOW_CLOSED = "window.closed", "window.closed"
        WINDOW_OPENED = "window.opened", "window.opened"
        MESSAGE_EXPIRED = "message.expired", "message.expired"

    class DeliveryStatus(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")
        NOT_PUSHED = "not_pushed", _("pull only (no callback URL)")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("UUID"))
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="bot_events", verbose_name=_("project"))
    channel = models.ForeignKey(
        Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("channel")
    )
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("client")
    )
    type = models.CharField(max_length=40, choices=Type.choices, verbose_name=_("type"))
    body = models.JSONField(help_text=_("The event exactly as pushed and served."), verbose_name=_("body"))
    dedupe_key = models.CharField(
        max_length=200,
        unique=True,
        help_text=_("What the event was made from; makes emitting idempotent."),
        verbose_name=_("dedupe key"),
    )
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, verbose_name=_("status")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("bot event")
        verbose_name_plural = _("bot events")
        indexes = [
            models.Index(fields=["project", "id"]),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["type", "-id"]),
            models.Index(fields=["channel", "type", "created_at"]),  # the owner's reachability counts
            models.Index(fields=["status", "-id"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.uuid}"


class DeliveryAttempt(models.Model):
    """One POST of a bot event to the project's callback URL."""

    event = models.ForeignKey(
        BotEvent, on_delete=models.CASCADE, related_name="delivery_attempts", verbose_name=_("event")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    url = models.URLField(max_length=500, verbose_name=_("URL"))
    response_status = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("response status"))
    response_body = models.TextField(
        blank=True, help_text=_("First 2 000 characters."), verbose_name=_("response body")
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    duration_ms = models.PositiveIntegerField(default=0, verbose_name=_("duration, ms"))

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        indexes = [models.Index(fields=["event", "-id"]), models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.response_status or self.error[:40]}"
