"""Request and answer bodies of the TikTok endpoints."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from clients.api.docs import ViolationSerializer
from clients.api.serializers import SendMessageSerializer


class CommentReplySerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text=_("The reply (at most 1 200)."))
    comment_video_id = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("Default: the client's tiktok_comment_video_id.")
    )
    comment_id = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("Default: the client's tiktok_comment_id.")
    )


class ValidateMessageSerializer(SendMessageSerializer):
    account = serializers.IntegerField(help_text=_("The TikTok account (its id in /api/v1/tiktok/accounts/)."))
    client = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text=_("Also check this client's window and images.")
    )


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = ViolationSerializer(many=True)  # type: ignore[assignment]  # the stubs take `errors` for the property
    warnings = ViolationSerializer(many=True)
    fallback_text = serializers.CharField(
        allow_null=True,
        help_text=_("The card's text with its buttons listed, as it will be sent; null without the fallback."),
    )
