"""Serializers of the channel-agnostic API: what the bot builder reads and sends."""

import json
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..channel_registry import provider_for
from ..models import Client, Message
from ..variables import variables_of


class WindowSerializer(serializers.Serializer):
    open = serializers.BooleanField(help_text=_("Whether the business may send now."))
    expires_at = serializers.DateTimeField(allow_null=True, help_text=_("When the current window ends."))
    messages_left = serializers.IntegerField(help_text=_("Messages the business may still send in the window."))


class ClientSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="channel_id", read_only=True, help_text=_("The channel account's id."))
    variables = serializers.SerializerMethodField()
    window = serializers.SerializerMethodField()

    class Meta:
        model = Client
        fields = (
            "id",
            "account",
            "external_id",
            "display_name",
            "username",
            "created_at",
            "last_message_at",
            "variables",
            "window",
        )
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_variables(self, client: Client) -> dict:
        return variables_of(client)

    @extend_schema_field(WindowSerializer(allow_null=True))
    def get_window(self, client: Client) -> dict[str, Any] | None:
        info = provider_for(client.channel).window(client)
        return None if info is None else WindowSerializer(info).data


class MessageSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="channel_id", read_only=True)

    class Meta:
        model = Message
        fields: tuple[str, ...] = (
            "id",
            "account",
            "client",
            "direction",
            "kind",
            "source",
            "status",
            "text",
            "payload",
            "external_id",
            "error_code",
            "error_message",
            "created_at",
            "sent_at",
            "read_at",
        )
        read_only_fields = fields


class SendWindowSerializer(WindowSerializer):
    last_message = serializers.BooleanField(help_text=_("This send took the window's last message."))


class SentMessageSerializer(MessageSerializer):
    """A send's answer: the message, and the client's window after it."""

    window = SendWindowSerializer(read_only=True, allow_null=True)

    class Meta(MessageSerializer.Meta):
        fields = (*MessageSerializer.Meta.fields, "window")
        read_only_fields = fields


class QueuedMessageSerializer(serializers.Serializer):
    """A message kept for the client's next window (a send's 202 answer, the queued-messages list)."""

    id = serializers.IntegerField()
    client = serializers.IntegerField(source="client_id")
    status = serializers.CharField(
        help_text=_("queued_for_next_window while waiting; then sent, failed, expired or cancelled.")
    )
    text = serializers.CharField()
    buttons = serializers.JSONField(help_text=_('[{"type", "text", "url"}]'))
    image_url = serializers.CharField()
    text_fallback = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text=_("Not sent by then: expired, with a message.expired event."))


class ButtonSerializer(serializers.Serializer):
    type = serializers.CharField(help_text=_("callback or url"))
    text = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text=_("What the bot gets on a tap."))
    url = serializers.URLField(required=False, allow_blank=True, default="", help_text=_("Kept; opens nothing."))


class ButtonsField(serializers.ListField):
    """A list of buttons, or (in a multipart request) the same list as a JSON string."""

    child = ButtonSerializer()

    def get_value(self, dictionary: Mapping[Any, Any]) -> Any:
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:
            return dictionary.get(self.field_name)  # multipart: one JSON text, not a list of form values
        return super().get_value(dictionary)

    def to_internal_value(self, data: Any) -> list[Any]:  # a list, or that list as JSON text
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise serializers.ValidationError(_("Buttons must be a JSON list."), code="invalid") from exc
        return super().to_internal_value(data)


class ImageUrlSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)


class SharePostSerializer(serializers.Serializer):
    item_id = serializers.CharField(help_text=_("The post's item_id (from the account's video list)."))


class SendMessageSerializer(serializers.Serializer):
    """`{"text", "buttons", "image": {"url"}}` as JSON, or multipart with `text`, `buttons` (JSON) and a file
    `image`. Lengths are not checked here: the channel's rules answer with their own codes."""

    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default="")
    buttons = ButtonsField(required=False, default=list)
    image = serializers.JSONField(
        required=False, default=None, help_text=_('{"url": "https://…"} in JSON; a JPEG/PNG file in multipart.')
    )
    reserve_last = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Refuse (409 last_slot_reserved) rather than take the window's last message."),
    )
    last = serializers.BooleanField(
        required=False, default=False, help_text=_("This send may take the window's last message.")
    )
    when_closed = serializers.ChoiceField(
        choices=["refuse", "queue"],
        required=False,
        default="refuse",
        help_text=_("queue: when the window is closed or used up, keep the message for the client's next window."),
    )
    text_fallback = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Buttons also as numbered text after the card's text; default: the project's setting."),
    )

    sender_actions = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text=_('Done before the message, in order, taking no window slot: "mark_read", "typing".'),
    )
    share_post = SharePostSerializer(
        required=False,
        default=None,
        allow_null=True,
        help_text=_("Share one of the account's own posts instead of text, image or buttons."),
    )

    def validate_image(self, value: Any) -> dict[str, Any] | None:
        if value in (None, ""):
            return None
        image = ImageUrlSerializer(data=value)
        image.is_valid(raise_exception=True)
        return {"url": image.validated_data["url"]}

    def to_internal_value(self, data: Mapping[str, Any]) -> dict[str, Any]:
        upload = data.get("image") if hasattr(data, "getlist") else None
        if not hasattr(upload, "read"):
            return super().to_internal_value(data)
        # A multipart upload: the file is taken aside, the other (single-valued) fields are validated as usual.
        validated = super().to_internal_value({key: data.get(key) for key in data if key != "image"})
        validated["image"] = {"file": upload}
        return validated
