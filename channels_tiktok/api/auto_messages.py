"""`/api/v1/tiktok/accounts/{id}/auto-messages/`: the account's automatic messages (welcome message, suggested
questions, chat prompts), their switches and TikTok's review; `.../refresh/` reads them back from TikTok."""

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels_tiktok.accounts import auto_messages
from channels_tiktok.api.base import TikTokApiView, outbound_errors, writes_to_tiktok
from clients.api.docs import error_responses

_REVIEW = _("TikTok's review: REVIEWING, APPROVED or REJECTED (null until known).")


def _text(help_text: StrOrPromise) -> serializers.CharField:
    return serializers.CharField(allow_blank=True, trim_whitespace=False, help_text=help_text)


class _ItemSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True, help_text=_("TikTok's id of the item."))
    review_status = serializers.CharField(read_only=True, allow_null=True, help_text=_REVIEW)


class WelcomeItemSerializer(_ItemSerializer):
    content = _text(_("At most 250 characters."))


class QuestionItemSerializer(_ItemSerializer):
    question = _text(_("At most 80 characters."))
    answer = _text(_("At most 200 characters."))


class PromptItemSerializer(_ItemSerializer):
    title = _text(_("At most 18 characters."))
    content = _text(_("At most 150 characters."))


def _section(
    item_serializer: type[serializers.Serializer], name: str, help_text: StrOrPromise
) -> type[serializers.Serializer]:
    fields = {
        "enabled": serializers.BooleanField(required=False, help_text=_("Whether TikTok sends them.")),
        "items": item_serializer(many=True, required=False, help_text=help_text),
    }
    return type(name, (serializers.Serializer,), fields)


WelcomeSection = _section(WelcomeItemSerializer, "WelcomeSection", _("At most one."))
QuestionsSection = _section(QuestionItemSerializer, "QuestionsSection", _("At most three."))
PromptsSection = _section(PromptItemSerializer, "PromptsSection", _("At most six, in this order."))


class AutoMessagesSerializer(serializers.Serializer):
    welcome_message = WelcomeSection(required=False)
    suggested_questions = QuestionsSection(required=False)
    chat_prompts = PromptsSection(required=False)
    refreshed_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text=_("When the review status was last read from TikTok.")
    )


_DESCRIPTION = _(
    "The account's automatic messages: one welcome message (at most 250 characters), up to three suggested "
    "questions (question at most 80, answer at most 200) and up to six chat prompts (title at most 18, content at "
    "most 150), each section switched on or off with `enabled`. A PUT replaces the sections it gives (items by "
    "position; a changed item goes back to TikTok's review); limits are answered 422 with their codes. Needs "
    "the message.list.manage permission (409 `missing_scope`)."
)


class AutoMessagesView(TikTokApiView):
    @extend_schema(
        tags=["tiktok accounts"],
        responses={200: AutoMessagesSerializer, **error_responses(401, 404)},
        description=_DESCRIPTION,
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(AutoMessagesSerializer(auto_messages.configuration(self.project_account(pk))).data)

    @writes_to_tiktok(
        tag="tiktok accounts",
        request=AutoMessagesSerializer,
        answer={200: AutoMessagesSerializer},
        description=_DESCRIPTION,
    )
    def put(self, request: Request, pk: int) -> Response:
        account = self.project_account(pk)
        body = self.validated(AutoMessagesSerializer)
        with outbound_errors():
            for section in auto_messages.SECTIONS:
                if section in body:
                    given = body[section]
                    items = given.get("items")
                    auto_messages.save_section(
                        account,
                        section=section,
                        items=[dict(i) for i in items] if items is not None else None,
                        enabled=given.get("enabled"),
                    )
        return Response(AutoMessagesSerializer(auto_messages.configuration(account)).data)


class AutoMessagesRefreshView(TikTokApiView):
    @extend_schema(
        tags=["tiktok accounts"],
        request=None,
        responses={200: AutoMessagesSerializer, **error_responses(401, 404, 409, 429, 502)},
        description=_("Reads the automatic messages, their review and switches back from TikTok."),
    )
    def post(self, request: Request, pk: int) -> Response:
        with outbound_errors():
            config = auto_messages.refresh(self.project_account(pk))
        return Response(AutoMessagesSerializer(config).data)
