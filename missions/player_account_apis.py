"""Player REST API beyond missions: wallet (`me`), streaks, claim history, leaderboards.

Thin views over the rewards, streaks and missions selectors; one APIView per operation.
"""

from __future__ import annotations

from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rewards.selectors import claim_history, player_wallet
from streaks.selectors import player_streaks

from .api_schema import error_responses
from .representations import BonusSerializer, ExactNumberField, RewardsSerializer
from .selectors import leaderboard


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


class StreakSerializer(serializers.Serializer):
    current = serializers.IntegerField()
    alive = serializers.BooleanField(help_text="Can still continue today.")
    best = serializers.IntegerField()
    last_completed = serializers.DateField(allow_null=True)
    multiplier = serializers.CharField(help_text="Reward multiplier now (decimal string).")
    freezes_available = serializers.IntegerField()
    recent_breaks = serializers.ListField(child=serializers.DictField())


class StreaksApi(APIView):
    @extend_schema_serializer(component_name="Streaks")
    class OutputSerializer(serializers.Serializer):
        daily = StreakSerializer()
        weekly = StreakSerializer()

    @extend_schema(
        operation_id="streaks_retrieve",
        summary="The caller's daily and weekly streaks",
        responses={200: OutputSerializer, **error_responses(401)},
        tags=["player"],
    )
    def get(self, request: Request) -> Response:
        streaks = player_streaks(user_id=_user_id(request), now=timezone.now())
        return Response(self.OutputSerializer(streaks).data)


class HistoryPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class StandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    score = ExactNumberField()
    players = serializers.IntegerField(help_text="How many players were ranked.")
    tier_rank_to = serializers.IntegerField(allow_null=True)
    finalized_at = serializers.DateTimeField()


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
            help_text="claim, auto_grant after the grace time, or competitive (a tier paid "
            "at period end)."
        )
        claimed_at = serializers.DateTimeField(source="created_at")
        base_rewards = RewardsSerializer()
        bonuses = BonusSerializer(many=True)
        granted = RewardsSerializer(help_text="The base rewards with every bonus applied.")
        meta_badges = serializers.ListField(child=serializers.CharField())
        standing = StandingSerializer(
            source="mission.standing",
            allow_null=True,
            help_text="Competitive payouts: the final leaderboard entry; null otherwise.",
        )

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


class LeaderboardEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    score = ExactNumberField()


class LeaderboardApi(APIView):
    @extend_schema_serializer(component_name="Leaderboard")
    class OutputSerializer(serializers.Serializer):
        template_key = serializers.CharField()
        name = serializers.CharField()
        period_start = serializers.DateTimeField()
        period_end = serializers.DateTimeField(allow_null=True)
        entries = LeaderboardEntrySerializer(many=True, help_text="The top `limit` players.")
        me = LeaderboardEntrySerializer(
            allow_null=True, help_text="The caller's entry; null while unranked."
        )
        around = LeaderboardEntrySerializer(
            many=True, help_text="The caller and up to two players above and below."
        )

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=10)

    @extend_schema(
        operation_id="leaderboards_retrieve",
        summary="The live ranking of a template's current period, with the caller's rank",
        parameters=[OpenApiParameter("limit", int, description="Size of the top (1–100).")],
        responses={200: OutputSerializer, **error_responses(400, 401, 404)},
        tags=["player"],
    )
    def get(self, request: Request, template_key: str) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        board = leaderboard(
            template_key=template_key,
            now=timezone.now(),
            limit=filters.validated_data["limit"],
            around_user_id=_user_id(request),
        )
        return Response(self.OutputSerializer(board).data)
