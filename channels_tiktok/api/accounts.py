"""`/api/v1/tiktok/accounts/`: the project's connected TikTok accounts, with permissions and region (R3, R4),
from `accounts.verdicts.verdicts_of` like the owner's page and the admin."""

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView

from channels_tiktok.accounts.verdicts import AccountVerdicts, verdicts_of
from channels_tiktok.models import TikTokAccount
from clients.api.docs import error_responses
from clients.pagination import NewestFirstPagination
from clients.permissions import ProjectScopedMixin


class MissingScopeSerializer(serializers.Serializer):
    scope = serializers.CharField(help_text="The TikTok scope that was not granted.")
    features = serializers.CharField(help_text="What does not work without it.")
    blocking = serializers.BooleanField(help_text="True when the channel cannot work at all without it.")
    fix = serializers.CharField(help_text="How the owner fixes it (scopes change only on TikTok's consent page).")


class TikTokAccountSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    region = serializers.SerializerMethodField(help_text="Availability group of the registered country, or null.")
    region_available = serializers.SerializerMethodField(
        help_text="Whether TikTok's messaging API works for this account; null when the country is unknown."
    )
    granted_scopes = serializers.SerializerMethodField(help_text="Scopes the owner granted on TikTok.")
    missing_scopes = serializers.SerializerMethodField(help_text="Needed scopes that were not granted.")
    token_expires_at = serializers.DateTimeField(
        source="access_token_expires_at", read_only=True, allow_null=True, help_text="Renewed automatically before."
    )

    class Meta:
        model = TikTokAccount
        fields = [
            "id",
            "business_id",
            "username",
            "display_name",
            "avatar_url",
            "status",
            "status_reason",
            "country",
            "region",
            "region_available",
            "granted_scopes",
            "missing_scopes",
            "token_expires_at",
            "is_business_account",
        ]
        read_only_fields = fields

    def to_representation(self, account: TikTokAccount) -> dict:
        self._verdicts = verdicts_of(account)  # the same verdicts the owner's page and the admin show
        return super().to_representation(account)

    def _of(self, account: TikTokAccount) -> AccountVerdicts:
        verdicts = getattr(self, "_verdicts", None)
        return verdicts if verdicts is not None else verdicts_of(account)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_region(self, account: TikTokAccount) -> str | None:
        return self._of(account).region.region

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_region_available(self, account: TikTokAccount) -> bool | None:
        return self._of(account).region.available

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_granted_scopes(self, account: TikTokAccount) -> list[str]:
        return list(self._of(account).permissions.granted)

    @extend_schema_field(MissingScopeSerializer(many=True))
    def get_missing_scopes(self, account: TikTokAccount) -> list[dict]:
        return [
            {"scope": item.scope, "features": item.features, "blocking": item.blocking, "fix": item.fix}
            for item in self._of(account).permissions.missing
        ]


class AccountPagination(NewestFirstPagination):
    ordering = "-pk"


class _AccountQuerysetMixin(ProjectScopedMixin):
    serializer_class: type[serializers.BaseSerializer] | None = TikTokAccountSerializer

    def get_queryset(self):
        return TikTokAccount.objects.filter(channel__project=self.project).prefetch_related("scopes").order_by("-pk")


_DESCRIPTION = (
    "A connected TikTok Business Account: `status` (`active`, `needs_reauth`: the owner must reconnect, no call "
    "is made with it; `disconnected`), the registered `country` with its `region` and whether TikTok's messaging "
    "API is available there (`region_available`), the scopes granted and those missing with what each one "
    "disables. Tokens are never returned."
)


@extend_schema_view(
    get=extend_schema(
        summary="List the project's TikTok accounts",
        description=_DESCRIPTION,
        tags=["tiktok accounts"],
        responses={200: TikTokAccountSerializer(many=True), **error_responses(401)},
    )
)
class AccountListView(_AccountQuerysetMixin, ListAPIView):
    pagination_class = AccountPagination


@extend_schema_view(
    get=extend_schema(
        summary="One TikTok account of the project",
        description=_DESCRIPTION,
        tags=["tiktok accounts"],
        responses={200: TikTokAccountSerializer, **error_responses(401, 404)},
    )
)
class AccountDetailView(_AccountQuerysetMixin, RetrieveAPIView):
    pass
