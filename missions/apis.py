"""Service API of the missions app: POST /api/v1/events (the batch door for events) and
PUT /api/v1/players/{user_id}/timezone (the host platform sets a player's zone)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .api_schema import ErrorSerializer
from .authentication import IsService, ServiceKeyAuthentication
from .errors import DomainError, NotFound, ValidationFailed
from .services.group_commit import events_ingest_grouped
from .services.ingest import events_ingest
from .services.timezones import player_timezone_set, player_timezone_state
from .throttles import IngestThrottle

# The one error shape of the whole API (one "Error" component in the schema).
ERROR = ErrorSerializer


class PayloadTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "too_large"


def max_body_bytes() -> int:
    # A full batch of events at the data limit, plus room for ids and envelopes.
    return settings.MISSIONS_MAX_BATCH * (settings.MISSIONS_MAX_EVENT_DATA_BYTES + 1024)


class EventsIngestApi(APIView):
    max_body_bytes = staticmethod(max_body_bytes)  # the parser's and the server's limit here
    authentication_classes = [ServiceKeyAuthentication]
    permission_classes = [IsService]
    throttle_classes = [IngestThrottle]

    class EventSerializer(serializers.Serializer):
        # Documentation only: each event is validated by the ingestion service, so one bad
        # event is rejected on its own instead of failing the batch.
        id = serializers.CharField(max_length=200, help_text="The sender's unique event id.")
        user_id = serializers.IntegerField(min_value=1)
        action = serializers.CharField(help_text='An action of the catalog, e.g. "post:created".')
        occurred_at = serializers.DateTimeField(required=False, help_text="Default: now.")
        data = serializers.DictField(  # type: ignore[assignment]
            required=False, help_text="At most 16 KB."
        )

    class RejectedSerializer(serializers.Serializer):
        index = serializers.IntegerField()
        id = serializers.CharField(allow_null=True)
        errors = serializers.DictField(  # type: ignore[assignment]
            child=serializers.ListField(child=serializers.CharField())
        )

    class OutputSerializer(serializers.Serializer):
        accepted = serializers.IntegerField()
        duplicates = serializers.IntegerField()
        rejected = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        operation_id="events_ingest",
        summary="Report a batch of player events (service key)",
        description=(
            "Up to 1,000 events. Each event is accepted, a duplicate (its id was seen before "
            "and changes nothing) or rejected with per-field errors; the good events of a "
            "batch are kept. A body that is not a batch, or over 1,000 events, is 400 and "
            "keeps nothing. Auth: `Authorization: Bearer <service key>`."
        ),
        request=inline_serializer(
            name="EventBatch",
            fields={"events": EventSerializer(many=True)},
        ),
        responses={
            200: inline_serializer(
                name="EventBatchResult",
                fields={
                    "accepted": serializers.IntegerField(),
                    "duplicates": serializers.IntegerField(),
                    "rejected": RejectedSerializer(many=True),
                },
            ),
            400: OpenApiResponse(ERROR, description="Not a batch, or over 1,000 events."),
            401: OpenApiResponse(ERROR, description="Missing, unknown or revoked service key."),
            409: OpenApiResponse(
                ERROR,
                description="`conflict_retry`: a concurrent batch wrote the same rows and "
                "nothing was saved; send the same batch again after Retry-After.",
            ),
            413: OpenApiResponse(ERROR, description="Body larger than a full batch can be."),
            429: OpenApiResponse(
                ERROR,
                description="This service key's rate (THROTTLE_RATES) is spent; see Retry-After.",
            ),
        },
        examples=[
            OpenApiExample(
                "A post",
                request_only=True,
                value={
                    "events": [
                        {
                            "id": "forum-post-9913",
                            "user_id": 42,
                            "action": "post:created",
                            "occurred_at": "2026-11-27T10:15:00Z",
                            "data": {"post_id": 9913, "forum_id": 3, "content_length": 240},
                        }
                    ]
                },
            ),
            OpenApiExample(
                "Partial rejection",
                response_only=True,
                value={
                    "accepted": 1,
                    "duplicates": 0,
                    "rejected": [
                        {
                            "index": 1,
                            "id": "e-2",
                            "errors": {"data.content_length": ["must be a whole number, got str"]},
                        }
                    ],
                },
            ),
        ],
        tags=["events"],
    )
    def post(self, request: Request) -> Response:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > max_body_bytes():
            raise PayloadTooLarge(
                f"the body is {length} bytes; the limit for this endpoint is {max_body_bytes()}",
                errors={"body": ["is too large"]},
            )
        body: Any = request.data
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            raise ValidationFailed(
                'the body must be a batch: {"events": [...]}',
                errors={"events": ["is required: a list of events"]},
            )
        events = body["events"]
        limit = settings.MISSIONS_MAX_BATCH
        if len(events) > limit:
            raise ValidationFailed(
                f"a batch holds at most {limit} events, got {len(events)}",
                errors={"events": [f"must hold at most {limit} events, got {len(events)}"]},
            )
        unknown = sorted(set(body) - {"events"})
        if unknown:
            raise ValidationFailed(
                "the body has unknown fields",
                errors={name: ["is not a batch field (use events)"] for name in unknown},
            )
        if 0 < len(events) <= settings.MISSIONS_INGEST_GROUP_MAX_EVENTS:
            result = events_ingest_grouped(events=events)  # with the concurrent requests
        else:
            result = events_ingest(events=events)
        return Response(self.OutputSerializer(result.as_dict()).data, status=status.HTTP_200_OK)


def _player_exists(user_id: int) -> None:
    if not get_user_model().objects.filter(pk=user_id).exists():
        raise NotFound(f"no player {user_id}")


class PlayerTimezoneApi(APIView):
    """The host platform sets a player's timezone (e.g. from its own account settings)."""

    authentication_classes = [ServiceKeyAuthentication]
    permission_classes = [IsService]

    @extend_schema_serializer(component_name="PlayerTimezoneInput")
    class InputSerializer(serializers.Serializer):
        timezone = serializers.CharField(
            max_length=64, help_text="An IANA name, e.g. 'Asia/Tokyo'."
        )

    @extend_schema_serializer(component_name="PlayerTimezone")
    class OutputSerializer(serializers.Serializer):
        user_id = serializers.IntegerField()
        timezone = serializers.CharField()
        current_timezone = serializers.CharField()
        takes_effect_at = serializers.DateTimeField(allow_null=True)
        day_start = serializers.DateTimeField()
        day_end = serializers.DateTimeField()

    @extend_schema(
        operation_id="players_timezone_retrieve",
        summary="A player's timezone (service key)",
        responses={
            200: OutputSerializer,
            401: OpenApiResponse(ERROR, description="Missing, unknown or revoked service key."),
            404: OpenApiResponse(ERROR, description="No such player."),
        },
        tags=["events"],
    )
    def get(self, request: Request, user_id: int) -> Response:
        _player_exists(user_id)
        state = player_timezone_state(user_id=user_id, now=timezone.now())
        return Response(self.OutputSerializer({"user_id": user_id, **state}).data)

    @extend_schema(
        operation_id="players_timezone_update",
        summary="Set a player's timezone (service key)",
        description=(
            "Takes effect from the player's next day (docs/missions.md, Timezones). An "
            "unknown name is a 400 naming `timezone`; an unknown player a 404."
        ),
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(ERROR, description="Not an IANA timezone name."),
            401: OpenApiResponse(ERROR, description="Missing, unknown or revoked service key."),
            404: OpenApiResponse(ERROR, description="No such player."),
        },
        tags=["events"],
    )
    def put(self, request: Request, user_id: int) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _player_exists(user_id)
        now = timezone.now()
        player_timezone_set(user_id=user_id, timezone=body.validated_data["timezone"], now=now)
        state = player_timezone_state(user_id=user_id, now=now)
        return Response(self.OutputSerializer({"user_id": user_id, **state}).data)
