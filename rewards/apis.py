"""Player REST API of the rewards app: wallet (`me`), claims and claim history.

Thin views over the rewards selectors and the claim service; one APIView per operation.
"""

from __future__ import annotations

from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from missions.api_schema import error_responses
from missions.player.representations import (
    BalancesSerializer,
    BonusSerializer,
    MissionSerializer,
    RewardsSerializer,
    mission_fields,
)
from missions.player.selectors import missions_by_ids
from missions.throttles import ClaimThrottle

from .selectors import claim_history, player_wallet
from .services import mission_claim


def _user_id(request: Request) -> int:
    return cast(int, request.user.pk)  # IsAuthenticated ran first: never anonymous here


class CatalogEntrySerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    icon = serializers.CharField(allow_blank=True)


class InventoryEntrySerializer(CatalogEntrySerializer):
    qty = serializers.IntegerField(min_value=1)


class MeApi(APIView):
    @extend_schema_serializer(component_name="Me")
    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        level = serializers.IntegerField()
        xp = serializers.IntegerField()
        dgt = serializers.CharField(help_text="Decimal string.")
        next_level_xp = serializers.IntegerField(
            allow_null=True, help_text="XP total for the next level (null at the top)."
        )
        badges = CatalogEntrySerializer(many=True)
        titles = CatalogEntrySerializer(many=True)
        inventory = InventoryEntrySerializer(many=True)

    @extend_schema(
        operation_id="me_retrieve",
        summary="The caller's level, balances, badges, titles and inventory",
        responses={200: OutputSerializer, **error_responses(401)},
        tags=["player"],
    )
    def get(self, request: Request) -> Response:
        wallet = player_wallet(user_id=_user_id(request))
        data = {**wallet, "username": request.user.get_username()}
        return Response(self.OutputSerializer(data).data)


class HistoryPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class HistoryApi(ListAPIView):
    """A ListAPIView only for its pagination (and the schema's paginated envelope)."""

    @extend_schema_serializer(component_name="HistoryEntry")
    class OutputSerializer(serializers.Serializer):
        mission_id = serializers.IntegerField()
        key = serializers.CharField(source="mission.template.key")
        name = serializers.CharField(source="mission.template.name")
        category = serializers.CharField(source="mission.template.category")
        period_type = serializers.CharField(source="mission.period_type")
        period_start = serializers.DateTimeField(source="mission.period_start")
        source = serializers.CharField(  # type: ignore[assignment]  # the body's key
            help_text="claim, or auto_grant after the grace time."
        )
        claimed_at = serializers.DateTimeField(source="created_at")
        base_rewards = RewardsSerializer()
        bonuses = BonusSerializer(many=True)
        granted = RewardsSerializer(help_text="The base rewards with every bonus applied.")
        meta_badges = serializers.ListField(child=serializers.CharField())

    pagination_class = HistoryPagination
    serializer_class = OutputSerializer

    def get_queryset(self) -> Any:
        return claim_history(user_id=_user_id(self.request))

    @extend_schema(
        operation_id="history_list",
        summary="The caller's payouts, newest first, each with its bonuses",
        responses={200: OutputSerializer(many=True), **error_responses(401, 404)},
        tags=["player"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class MissionClaimApi(APIView):
    throttle_classes = [ClaimThrottle]

    @extend_schema_serializer(component_name="ClaimResult")
    class OutputSerializer(serializers.Serializer):
        mission_id = serializers.IntegerField()
        source = serializers.CharField(  # type: ignore[assignment]  # the body's key
            help_text="`claim` here (`auto_grant` in history)."
        )
        base_rewards = RewardsSerializer(help_text="The template's rewards.")
        bonuses = BonusSerializer(
            many=True, help_text="Each bonus applied: speed, streak, perfect."
        )
        granted = RewardsSerializer(help_text="What was granted: base rewards × bonuses.")
        balances = BalancesSerializer(help_text="The caller's balances after the claim.")
        level = serializers.IntegerField()
        next_level_xp = serializers.IntegerField(allow_null=True)
        meta_badges = serializers.ListField(
            child=serializers.CharField(), help_text="Badges this claim unlocked on the way."
        )
        mission = MissionSerializer(help_text="The mission, now claimed.")

    @extend_schema(
        operation_id="missions_claim",
        summary="Claim a completed mission's rewards (exactly once)",
        description=(
            "Grants the rewards and every bonus in one transaction, once whatever the "
            "concurrency. Browsers (session auth) must send the CSRF token as `X-CSRFToken`."
        ),
        request=None,
        responses={200: OutputSerializer, **error_responses(401, 403, 404, 409, 429)},
        tags=["missions"],
    )
    def post(self, request: Request, mission_id: int) -> Response:
        now = timezone.now()
        user_id = _user_id(request)
        result = mission_claim(mission_id=mission_id, user_id=user_id, now=now)
        mission = missions_by_ids([mission_id]).get()
        data = {**result.as_dict(), "mission": mission_fields(mission, now=now)}
        return Response(self.OutputSerializer(data).data)
