"""Player REST API of the rewards app: wallet (`me`), claims and claim history.

Thin views over the rewards selectors and the claim service; one APIView per operation.
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

from missions.api_schema import error_responses
from missions.player.representations import (
    BalancesSerializer,
    BonusSerializer,
    ExactNumberField,
    MissionSerializer,
    RewardsSerializer,
    mission_fields,
)
from missions.player.selectors import missions_by_ids
from missions.throttles import ClaimThrottle

from .selectors import (
    HISTORY_KINDS,
    competition_rows,
    competition_standings,
    competitions_pending,
    history_rows,
    ledger_history,
    player_wallet,
)
from .services import mission_claim, missions_claim_all


def _user_id(request: Request) -> int:
    return cast(int, request.user.pk)  # IsAuthenticated ran first: never anonymous here


class CatalogEntrySerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    icon = serializers.CharField(allow_blank=True)


class InventoryEntrySerializer(CatalogEntrySerializer):
    qty = serializers.IntegerField(min_value=1)


class LevelProgressSerializer(serializers.Serializer):
    start_xp = serializers.IntegerField(help_text="Total XP at which the current level began.")
    next_level_xp = serializers.IntegerField(allow_null=True, help_text="Null at the top.")
    into = serializers.IntegerField(help_text="XP earned inside the current level.")
    span = serializers.IntegerField(help_text="XP the current level spans (0 at the top).")
    percent = serializers.IntegerField(help_text="into × 100 // span (100 at the top).")


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
        level_progress = LevelProgressSerializer(
            help_text="Progress inside the current level: the hub's bar and its label."
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


class BoardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    score = ExactNumberField()
    paid = serializers.BooleanField(help_text="Whether this rank reached a reward tier.")


class StandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    score = ExactNumberField()
    players = serializers.IntegerField(help_text="How many players were ranked.")
    tier_rank_to = serializers.IntegerField(allow_null=True)
    finalized_at = serializers.DateTimeField()
    leaderboard = BoardRowSerializer(
        many=True,
        help_text="The final leaderboard's top rows (REWARDS_HISTORY_LEADERBOARD_TOP), as kept "
        "when the competition was finalised.",
    )


class HistoryApi(ListAPIView):
    """Every ledger entry of the caller (a ListAPIView for its pagination and the schema's
    paginated envelope)."""

    @extend_schema_serializer(component_name="HistoryEntry")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(help_text="The ledger entry.")
        kind = serializers.ChoiceField(
            choices=list(HISTORY_KINDS),
            help_text="claim, auto_grant (unclaimed rewards paid after the grace time), "
            "achievement, competitive, streak, or grant (admin and other grants).",
        )
        kind_label = serializers.CharField(help_text="The kind in words.")
        reason = serializers.CharField(help_text="Why the entry was made.")
        created_at = serializers.DateTimeField()
        xp = serializers.IntegerField(help_text="XP of this entry; all entries sum to `me.xp`.")
        dgt = serializers.CharField(help_text="DGT of this entry (decimal string).")
        mission_id = serializers.IntegerField(allow_null=True)
        key = serializers.CharField(allow_null=True, help_text="The mission's template key.")
        name = serializers.CharField(allow_null=True)
        category = serializers.CharField(allow_null=True)
        period_type = serializers.CharField(allow_null=True)
        period_start = serializers.DateTimeField(allow_null=True)
        base_rewards = RewardsSerializer(allow_null=True, help_text="Mission payouts only.")
        bonuses = BonusSerializer(many=True)
        granted = RewardsSerializer(
            allow_null=True, help_text="Mission payouts: the base rewards with every bonus."
        )
        meta_badges = serializers.ListField(child=serializers.CharField())
        standing = StandingSerializer(
            allow_null=True,
            help_text="Competitive payouts: the final leaderboard entry; null otherwise.",
        )

    class FilterSerializer(serializers.Serializer):
        kind = serializers.CharField(required=False)

        def validate_kind(self, value: str) -> list[str]:
            kinds = [part.strip() for part in value.split(",") if part.strip()]
            unknown = [k for k in kinds if k not in HISTORY_KINDS]
            if not kinds or unknown:
                raise serializers.ValidationError(
                    f"must be one or more of {', '.join(HISTORY_KINDS)} (comma-separated), "
                    f"got {value!r}"
                )
            return kinds

    pagination_class = HistoryPagination
    serializer_class = OutputSerializer

    def get_queryset(self) -> Any:
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return ledger_history(
            user_id=_user_id(self.request), kinds=filters.validated_data.get("kind")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = history_rows(page if page is not None else [])
        return self.get_paginated_response(self.OutputSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="history_list",
        summary="Every XP and DGT movement of the caller, newest first, each with its reason",
        description=(
            "Claims, automatic payouts, achievements, competition prizes, streak rewards and "
            "grants: the ledger entries, whose XP and DGT sum to the balances of `/me`. "
            "Mission payouts carry their base rewards and each bonus with its explanation."
        ),
        parameters=[
            OpenApiParameter(
                "kind",
                str,
                description="One or more of " + ", ".join(HISTORY_KINDS) + ", comma-separated.",
            )
        ],
        responses={200: OutputSerializer(many=True), **error_responses(400, 401, 404)},
        tags=["player"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class CompetitionHistoryApi(ListAPIView):
    """The caller's competitions: finalised ones (paid or ranked below every tier) with the
    final leaderboard, paginated, and under `pending` those whose period ended but which are
    not finalised (ranked provisionally, not paid yet)."""

    @extend_schema_serializer(component_name="CompetitionStanding")
    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=["paid", "ranked"],
            help_text="paid: the rank reached a reward tier (the prize is in /history, kind "
            "competitive); ranked: kept on the final board below every tier, not paid.",
        )
        key = serializers.CharField(help_text="The competitive template's key.")
        name = serializers.CharField()
        mission_id = serializers.IntegerField()
        period_start = serializers.DateTimeField()
        period_end = serializers.DateTimeField()
        rank = serializers.IntegerField()
        score = ExactNumberField()
        players = serializers.IntegerField(help_text="How many players were ranked.")
        tier_rank_to = serializers.IntegerField(allow_null=True)
        rewards = RewardsSerializer(help_text="The tier's prize; empty when not paid.")
        finalized_at = serializers.DateTimeField()
        leaderboard = BoardRowSerializer(many=True)

    @extend_schema_serializer(component_name="CompetitionPending")
    class PendingSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["pending"])
        key = serializers.CharField()
        name = serializers.CharField()
        mission_id = serializers.IntegerField()
        period_start = serializers.DateTimeField()
        period_end = serializers.DateTimeField()
        score = ExactNumberField()
        provisional_rank = serializers.IntegerField(
            allow_null=True, help_text="The rank the score holds now; null with no score."
        )
        players = serializers.IntegerField(help_text="Players with a score so far.")
        finalises_after = serializers.DateTimeField(
            help_text="The period's end plus the late-event grace: ranks are final, and tiers "
            "paid, at the first finaliser run after it."
        )

    pagination_class = HistoryPagination
    serializer_class = OutputSerializer

    def get_queryset(self) -> Any:
        return competition_standings(user_id=_user_id(self.request))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = competition_rows(page if page is not None else [])
        response = self.get_paginated_response(self.OutputSerializer(rows, many=True).data)
        pending = competitions_pending(user_id=_user_id(request), now=timezone.now())
        response.data["pending"] = self.PendingSerializer(pending, many=True).data
        return response

    @extend_schema(
        operation_id="history_competitions_list",
        summary="The caller's competitions: final ranks with the final leaderboard, and the "
        "ones waiting to be finalised",
        description=(
            "Every competitive mission of the caller that was finalised, newest first, paid "
            "or not, with the top of the final leaderboard; `pending` lists the ended ones "
            "still inside the late-event grace (a provisional rank, nothing paid yet)."
        ),
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


@extend_schema_serializer(component_name="ClaimedMission")
class ClaimedSerializer(serializers.Serializer):
    mission_id = serializers.IntegerField()
    base_rewards = RewardsSerializer()
    bonuses = BonusSerializer(many=True)
    granted = RewardsSerializer()
    meta_badges = serializers.ListField(child=serializers.CharField())


class MissionClaimAllApi(APIView):
    @extend_schema_serializer(component_name="ClaimAllResult")
    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField(help_text="How many missions this request claimed.")
        claimed = ClaimedSerializer(many=True, help_text="Each claim with its bonuses.")
        total = RewardsSerializer(help_text="Everything granted by this request, summed.")
        balances = BalancesSerializer(help_text="The caller's balances after the claims.")
        level = serializers.IntegerField()
        next_level_xp = serializers.IntegerField(allow_null=True)

    @extend_schema(
        operation_id="missions_claim_all",
        summary="Claim every completed mission in one request (each exactly once)",
        description=(
            "Claims each of the caller's completed, still-claimable missions through the same "
            "claim as `POST /missions/{id}/claim`. A mission another request claimed first is "
            "skipped, never paid twice; with nothing to claim the answer is 200 with count 0."
        ),
        request=None,
        responses={200: OutputSerializer, **error_responses(401, 403)},
        tags=["missions"],
    )
    def post(self, request: Request) -> Response:
        result = missions_claim_all(user_id=_user_id(request), now=timezone.now())
        data = {
            "count": len(result.claimed),
            "claimed": [ClaimedSerializer(claim.as_dict()).data for claim in result.claimed],
            "total": result.total,
            "balances": result.balances,
            "level": result.level,
            "next_level_xp": result.next_level_xp,
        }
        return Response(self.OutputSerializer(data).data)
