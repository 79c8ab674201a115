"""factory-boy factories for every model."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.models import (
    AutoMessage,
    Conversation,
    GrantedScope,
    HighIntentComment,
    Referral,
    TikTokAccount,
    WebhookEvent,
)
from clients.api_keys import create_api_key
from clients.models import ApiKey, BotEvent, Channel, Client, ClientVariable, DeliveryAttempt, Message, Project


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"owner{n}")
    password = factory.django.Password("password")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    callback_url = ""
    callback_secret = factory.Faker("sha256")


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """An API key; the full key (shown once in the product) is on `.raw_key`."""

    class Meta:
        model = ApiKey

    project = factory.SubFactory(ProjectFactory)
    name = "bot"

    @classmethod
    def _create(cls, model_class, *args, project, name, **kwargs):
        key, raw = create_api_key(project=project, name=name)
        key.raw_key = raw
        return key


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    project = factory.SubFactory(ProjectFactory)
    kind = Channel.Kind.TIKTOK


class TikTokAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TikTokAccount
        skip_postgeneration_save = True

    channel = factory.SubFactory(ChannelFactory)
    business_id = factory.Sequence(lambda n: f"-000{n}Xa9bBcCdDeE_business")
    username = factory.Sequence(lambda n: f"shop{n}")
    display_name = factory.Sequence(lambda n: f"Shop {n}")
    is_business_account = True
    country = "MX"
    access_token = factory.Sequence(lambda n: f"act.access-token-{n}")
    refresh_token = factory.Sequence(lambda n: f"rft.refresh-token-{n}")
    access_token_expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=24))
    refresh_token_expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=365))

    @factory.post_generation
    def scopes(self, create, extracted, **kwargs):
        if not create:
            return
        for scope in constants.ALL_SCOPES if extracted is None else extracted:
            GrantedScope.objects.create(account=self, scope=scope)


class AutoMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AutoMessage

    account = factory.SubFactory(TikTokAccountFactory, scopes=[])
    type = constants.AUTO_SUGGESTED_QUESTION
    position = factory.Sequence(lambda n: n + 1)
    title = "¿Horario?"
    content = "De 9 a 21."
    external_id = factory.Sequence(lambda n: f"am-{n}")
    review_status = constants.AUTO_REVIEW_REVIEWING


class GrantedScopeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GrantedScope

    account = factory.SubFactory(TikTokAccountFactory, scopes=[])
    scope = constants.SCOPE_MESSAGE_SEND


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    channel = factory.SubFactory(ChannelFactory)
    external_id = factory.Sequence(lambda n: f"user-unique-{n}")
    display_name = factory.Sequence(lambda n: f"Client {n}")
    username = factory.Sequence(lambda n: f"client{n}")


class ClientVariableFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientVariable

    client = factory.SubFactory(ClientFactory)
    key = factory.Sequence(lambda n: f"var{n}")
    value = "value"


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    account = factory.SubFactory(TikTokAccountFactory)
    client = factory.SubFactory(ClientFactory, channel=factory.SelfAttribute("..account.channel"))
    conversation_id = factory.Sequence(lambda n: f"0:1:{n}+conv")
    last_inbound_at = factory.LazyFunction(timezone.now)
    window_sent = 0
    image_send_allowed = True


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    account = factory.SubFactory(TikTokAccountFactory)
    client = factory.SubFactory(ClientFactory, channel=factory.SelfAttribute("..account.channel"))
    source = constants.REFERRAL_SOURCE_AD
    ad_id = factory.Sequence(lambda n: f"1790000000000{n:03d}")
    ad_name = "Tacos 2x1"
    referral = factory.LazyAttribute(lambda o: {"source": o.source, "ad": {"ad_id": o.ad_id, "ad_name": o.ad_name}})
    received_at = factory.LazyFunction(timezone.now)


class HighIntentCommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HighIntentComment

    account = factory.SubFactory(TikTokAccountFactory)
    client = factory.SubFactory(ClientFactory, channel=factory.SelfAttribute("..account.channel"))
    comment_id = factory.Sequence(lambda n: f"75000000000000{n:05d}")
    text = "¿Precio?"
    commented_at = factory.LazyFunction(timezone.now)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    client = factory.SubFactory(ClientFactory)
    channel = factory.SelfAttribute("client.channel")
    direction = Message.Direction.INBOUND
    kind = Message.Kind.TEXT
    source = Message.Source.CLIENT
    status = Message.Status.RECEIVED
    text = "hello"
    external_id = factory.Sequence(lambda n: f"msg-{n}")


class BotEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BotEvent

    project = factory.SubFactory(ProjectFactory)
    type = BotEvent.Type.CLIENT_MESSAGE
    body = factory.LazyAttribute(lambda o: {"type": o.type, "text": "hello"})
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")


class DeliveryAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveryAttempt

    event = factory.SubFactory(BotEventFactory)
    url = "https://bot.example.com/callback"
    response_status = 200


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    event = constants.EVENT_RECEIVE_MSG
    business_id = "biz"
    dedupe_key = factory.Sequence(lambda n: f"msg:{n}")
    raw_body = "{}"


class QueuedSendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "channels_tiktok.QueuedSend"

    client = factory.SubFactory(ClientFactory)
    text = "See you soon"
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=7))
