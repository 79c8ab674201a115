"""TikTok's side: connected business accounts, granted scopes, the webhook journal and conversation state."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from channels_tiktok import constants
from clients.fields import EncryptedTextField
from clients.models import Channel, Client


class TikTokAccount(models.Model):
    """A connected TikTok Business Account. Shares its primary key with its `clients.Channel`."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        NEEDS_REAUTH = "needs_reauth", _("needs reauthorisation")
        DISCONNECTED = "disconnected", _("disconnected")

    channel = models.OneToOneField(
        Channel, on_delete=models.CASCADE, primary_key=True, related_name="tiktok_account", verbose_name=_("channel")
    )
    business_id = models.CharField(
        _("business id"),
        max_length=128,
        unique=True,
        help_text=_("TikTok's open_id of the account; user_openid in webhooks."),
    )
    username = models.CharField(_("username"), max_length=200, blank=True, db_index=True)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    avatar_url = models.URLField(_("avatar URL"), max_length=1000, blank=True, help_text=_("Expires on TikTok's side."))
    is_business_account = models.BooleanField(_("business account"), null=True, blank=True)
    country = models.CharField(
        _("registered country"),
        max_length=2,
        blank=True,
        help_text=_("ISO 3166-1 alpha-2 code of the country the account is registered in (stated by the owner)."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(_("status reason"), blank=True)
    access_token = EncryptedTextField(blank=True, verbose_name=_("access token"))
    refresh_token = EncryptedTextField(blank=True, verbose_name=_("refresh token"))
    access_token_expires_at = models.DateTimeField(_("access token expires at"), null=True, blank=True)
    refresh_token_expires_at = models.DateTimeField(_("refresh token expires at"), null=True, blank=True)
    token_refreshed_at = models.DateTimeField(_("token refreshed at"), null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("connected by"),
    )
    connected_at = models.DateTimeField(_("connected at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    webhooks_subscribed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("webhooks subscribed at"))
    last_webhook_at = models.DateTimeField(_("last webhook received"), null=True, blank=True)
    auto_messages_enabled = models.JSONField(
        _("automatic messages switched on"),
        default=dict,
        blank=True,
        help_text=_("Per type of automatic message (WELCOME_MESSAGE, ...): whether TikTok sends it."),
    )
    auto_messages_refreshed_at = models.DateTimeField(_("automatic messages read from TikTok"), null=True, blank=True)

    comment_to_message = models.BooleanField(
        _("comment-to-message"),
        null=True,
        blank=True,
        help_text=_("Whether TikTok lets the business answer comments in a private message; empty until read."),
    )
    comment_to_message_checked_at = models.DateTimeField(_("comment-to-message read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("TikTok account")
        verbose_name_plural = _("TikTok accounts")
        indexes = [
            models.Index(fields=["status", "access_token_expires_at"]),
            models.Index(fields=["country"]),
        ]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else self.business_id

    @property
    def region(self) -> str | None:
        return constants.region_of(self.country)

    @property
    def region_available(self) -> bool | None:
        return constants.region_available(self.country)


class GrantedScope(models.Model):
    """A scope the owner granted on TikTok's consent page (R3)."""

    account = models.ForeignKey(
        TikTokAccount, on_delete=models.CASCADE, related_name="scopes", verbose_name=_("account")
    )
    scope = models.CharField(max_length=64, verbose_name=_("scope"))
    granted_at = models.DateTimeField(auto_now_add=True, verbose_name=_("granted at"))

    class Meta:
        verbose_name = _("granted scope")
        verbose_name_plural = _("granted scopes")
        constraints = [models.UniqueConstraint(fields=["account", "scope"], name="scope_unique_per_account")]
        indexes = [models.Index(fields=["scope"])]

    def __str__(self) -> str:
        return self.scope


class Conversation(models.Model):
    """A client's direct-message conversation and its messaging window (R5, R6, R8)."""

    client = models.OneToOneField(
        Client, on_delete=models.CASCADE, related_name="tiktok_conversation", verbose_name=_("client")
    )
    account = models.ForeignKey(
        TikTokAccount, on_delete=models.CASCADE, related_name="conversations", verbose_name=_("account")
    )
    conversation_id = models.CharField(_("conversation id"), max_length=200)
    last_inbound_at = models.DateTimeField(
        _("last client message at"), null=True, blank=True, help_text=_("Opens a new messaging window.")
    )
    window_sent = models.PositiveSmallIntegerField(
        _("messages sent in the window"), default=0, help_text=_("Business messages since the last client message.")
    )
    # The window (by its start, last_inbound_at) each window event was last sent for: set by a conditional
    # UPDATE before the event is written, so every window gets each event once, whatever the number of workers.
    closing_sent_for = models.DateTimeField(_("window.closing sent for"), null=True, blank=True)
    closed_sent_for = models.DateTimeField(_("window.closed sent for"), null=True, blank=True)
    image_send_allowed = models.BooleanField(_("images allowed"), null=True, blank=True)
    image_checked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("image checked at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(fields=["account", "conversation_id"], name="conversation_unique_per_account"),
            models.CheckConstraint(
                condition=models.Q(window_sent__lte=constants.WINDOW_MAX_MESSAGES), name="window_sent_within_quota"
            ),
        ]
        indexes = [
            models.Index(fields=["conversation_id"]),
            models.Index(fields=["account", "-last_inbound_at"]),
            models.Index(fields=["last_inbound_at"]),  # the window events' periodic scan
            models.Index(fields=["image_send_allowed", "-id"]),  # the admin's filter, newest first
        ]

    def __str__(self) -> str:
        return self.conversation_id


class WebhookEvent(models.Model):
    """The webhook journal: every verified delivery from TikTok, stored before it is processed (B2, B3)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PROCESSED = "processed", _("processed")
        IGNORED = "ignored", _("ignored")
        FAILED = "failed", _("failed")

    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    event = models.CharField(_("event"), max_length=64, blank=True)
    business_id = models.CharField(_("business id"), max_length=128, blank=True, help_text=_("user_openid"))
    account = models.ForeignKey(
        TikTokAccount,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhook_events",
        verbose_name=_("account"),
        # No index of its own: the two indexes below that lead with the account serve every lookup by it (B10:
        # each index is one more write for every delivery).
        db_index=False,
    )
    # Compared whole only: migration 0007 dropped the `LIKE` index PostgreSQL's backend adds to a unique varchar.
    # Altering this field would make Django create it again.
    dedupe_key = models.CharField(max_length=255, unique=True, verbose_name=_("dedupe key"))
    raw_body = models.TextField(_("raw body"))
    headers = models.JSONField(default=dict, blank=True, verbose_name=_("headers"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))
    next_attempt_at = models.DateTimeField(
        _("next attempt at"),
        null=True,
        blank=True,
        help_text=_("When the sweeper may (re)queue processing; empty when no further attempt is due."),
    )
    # Set by the worker that reads what this pending row needs from TikTok (a comment's text, an image's URL),
    # outside any lock: other workers' batches leave the row alone until then, so TikTok is asked once.
    fetching_until = models.DateTimeField(
        _("read from TikTok until"),
        null=True,
        blank=True,
        help_text=_("A worker is reading what this event needs from TikTok; other workers leave it until then."),
    )
    conversation_id = models.CharField(max_length=200, blank=True, verbose_name=_("conversation id"))
    comment_id = models.CharField(max_length=32, blank=True, verbose_name=_("comment id"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook journal")
        indexes = [
            models.Index(fields=["status", "received_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["account", "-id"]),
            models.Index(fields=["event", "-id"]),
            models.Index(fields=["business_id"]),
            models.Index(fields=["conversation_id"]),
            models.Index(fields=["comment_id"]),
            # The admin's filters with the list's ordering, and the account page's failures of the last 24 hours.
            models.Index(fields=["status", "-id"]),
            models.Index(fields=["received_at"]),
            models.Index(fields=["account", "status", "received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event or '?'} #{self.pk}"


class AutoMessage(models.Model):
    """One of the account's automatic messages as TikTok holds it: the welcome message, a suggested question
    (`title` the question, `content` the answer) or a chat prompt (`title`, `content`), with TikTok's review."""

    class Type(models.TextChoices):
        WELCOME = constants.AUTO_WELCOME, _("welcome message")
        SUGGESTED_QUESTION = constants.AUTO_SUGGESTED_QUESTION, _("suggested question")
        CHAT_PROMPT = constants.AUTO_CHAT_PROMPT, _("chat prompt")

    class Review(models.TextChoices):
        REVIEWING = constants.AUTO_REVIEW_REVIEWING, _("in review")
        APPROVED = constants.AUTO_REVIEW_APPROVED, _("approved")
        REJECTED = constants.AUTO_REVIEW_REJECTED, _("rejected")

    account = models.ForeignKey(
        TikTokAccount, on_delete=models.CASCADE, related_name="auto_messages", verbose_name=_("TikTok account")
    )
    type = models.CharField(_("type"), max_length=32, choices=Type.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    title = models.CharField(_("question or title"), max_length=200, blank=True)
    content = models.TextField(_("text"), blank=True)
    external_id = models.CharField(_("TikTok's id"), max_length=128, blank=True)
    review_status = models.CharField(_("review"), max_length=16, choices=Review.choices, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("automatic message")
        verbose_name_plural = _("automatic messages")
        ordering = ["account", "type", "position"]
        constraints = [
            models.UniqueConstraint(fields=["account", "type", "position"], name="auto_message_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.position}"


class Referral(models.Model):
    """A user opened the conversation from a Direct Messaging ad or a tiktok.me short link (im_referral_msg)."""

    account = models.ForeignKey(
        TikTokAccount, on_delete=models.CASCADE, related_name="referrals", verbose_name=_("account")
    )
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="tiktok_referrals", verbose_name=_("client")
    )
    webhook_event = models.OneToOneField(
        WebhookEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source"), max_length=20)
    ad_id = models.CharField(_("ad id"), max_length=64, blank=True)
    ad_name = models.CharField(_("ad name"), max_length=255, blank=True)
    short_link_ref = models.CharField(_("short link ref"), max_length=255, blank=True)
    referral = models.JSONField(_("referral"), default=dict)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [models.Index(fields=["account", "source"])]

    def __str__(self):
        return f"{self.source} {self.ad_id or self.short_link_ref}".strip()


class HighIntentComment(models.Model):
    """A comment TikTok flagged as high-intent (im_receive_high_intent_comment): it may get one private DM."""

    account = models.ForeignKey(
        TikTokAccount, on_delete=models.CASCADE, related_name="high_intent_comments", verbose_name=_("account")
    )
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="tiktok_high_intent_comments", verbose_name=_("client")
    )
    comment_id = models.CharField(_("comment id"), max_length=64)
    text = models.TextField(_("text"), blank=True)
    commented_at = models.DateTimeField(_("commented at"))
    replied_at = models.DateTimeField(_("answered in DM at"), null=True, blank=True)
    reply_message = models.ForeignKey(
        "clients.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("high-intent comment")
        verbose_name_plural = _("high-intent comments")
        constraints = [
            models.UniqueConstraint(fields=["account", "comment_id"], name="high_intent_comment_unique_per_account")
        ]

    def __str__(self):
        return self.comment_id


class QueuedSend(models.Model):
    """A bot's message for a client whose window was closed: sent, in order, when the client writes again."""

    class Status(models.TextChoices):
        PENDING = "queued_for_next_window", _("queued for the next window")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired")
        CANCELLED = "cancelled", _("cancelled")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", verbose_name=_("client"))
    status = models.CharField(_("status"), max_length=32, choices=Status.choices, default=Status.PENDING)
    text = models.TextField(_("text"), blank=True)
    buttons = models.JSONField(_("buttons"), default=list, blank=True)
    image_url = models.URLField(_("image URL"), max_length=2000, blank=True)
    text_fallback = models.BooleanField(_("buttons also as text"), default=False)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    message = models.ForeignKey(
        "clients.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("message")
    )
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message queued for the next window")
        verbose_name_plural = _("messages queued for the next window")
        indexes = [
            models.Index(fields=["client", "status", "id"]),  # a client's queue, in order
            models.Index(fields=["status", "expires_at"]),  # the expiry sweep
            models.Index(fields=["created_at"]),  # the owner's 30 days
        ]

    def __str__(self):
        return f"#{self.pk} {self.status}"
