"""REST API for points (`/api/v1/points/…`): scoped reads through `hemei.points.access` and
`hemei.regions.access`, every write through the services of `ledger.py` and `shop.py` (the one
writer), a refused write is a structured error and changes nothing.

Scopes: a villager reads their own household's account, entries and redemptions (and the
entries of their village in publicity, which the village posts publicly anyway, so they can
object); a grid worker their grid; the committee and the shop keeper their village; township
and county staff their subtree. Anything outside is a 404, never a 403.

Writes take an `Idempotency-Key` header (the ledger's own idempotency keys, per account): the
same key and payload answer the first result again (200), another payload under the same key
is a 409. Proposals and redemptions require it; the decisions on one entry or redemption
(approve, reject, object, cancel, collect) default to a key derived from the action and the
id, so a repeated tap replays instead of failing.

Error codes (`{"error": {"code", "message", "fields"}}`): 400 `invalid`/`key`; 403 `scope`
(you may read it but not do this); 409 `idempotency_conflict`, `conflict` (already decided),
`state` (not possible in the current state, e.g. an objection after publicity), `balance`,
`stock`, `limit`, `cap` (the ledger's limits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import pagination, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from hemei.cases.api import ErrorSerializer, api_error
from hemei.core.api import StrictPageSize, key_header
from hemei.core.idempotency import KEY_MAX, IdempotencyConflict, created
from hemei.core.parsing import BoolFilter, ChoiceFilter, IdFilter
from hemei.core.scope import scope_q
from hemei.points import ledger, shop
from hemei.points.access import access_entries, access_redemptions, access_rewards, villager_resident
from hemei.points.models import Entry, Redemption, Reward, RuleItem, RuleVersion
from hemei.points.serializers import (
    AccountSerializer,
    EntryProposeSerializer,
    EntrySerializer,
    ObjectionSerializer,
    ReasonSerializer,
    RedemptionCreateSerializer,
    RedemptionSerializer,
    RewardSerializer,
    StatementSerializer,
)
from hemei.regions.access import access_households, access_region, scope_for
from hemei.regions.models import Household

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_MAX = KEY_MAX
STATEMENT_ROWS = 100
LIMIT_CODES = frozenset({"conflict", "state", "balance", "stock", "limit", "cap"})

NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Not found or outside your scope")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="You may read it but not do this (code scope)")
REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="Refused by the ledger: idempotency_conflict (key reused with another payload), conflict "
    "(already decided), state, balance, stock, limit or cap. Nothing was changed.",
)
KEY_REQUIRED = key_header(
    required=True, max_length=IDEMPOTENCY_MAX,
    description="Your key for this write (≤ 100 characters). Same key + same payload: the first result "
    "again (200); a different payload under the same key: 409.",
)
KEY_OPTIONAL = key_header(
    required=False, max_length=IDEMPOTENCY_MAX,
    description="Optional; default: derived from the action and the id, so repeating the call replays it.",
)


def refused(exc: ValidationError) -> Response:
    """A service's refusal as a structured error; the service's transaction rolled back."""
    message = "; ".join(exc.messages)
    if isinstance(exc, IdempotencyConflict):
        return api_error("idempotency_conflict", message, status.HTTP_409_CONFLICT)
    code = exc.code if isinstance(getattr(exc, "code", None), str) else None
    if code == "scope":
        return api_error("scope", message, status.HTTP_403_FORBIDDEN)
    if code in LIMIT_CODES:
        return api_error(code, message, status.HTTP_409_CONFLICT)
    return api_error(code if code == "key" else "invalid", message, status.HTTP_400_BAD_REQUEST)


def _key(request: Request, default: str | None = None) -> str | Response:
    key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    if not key and default is None:
        return api_error("key", _("The %(h)s header is required for this write.") % {"h": IDEMPOTENCY_HEADER},
                         status.HTTP_400_BAD_REQUEST, {IDEMPOTENCY_HEADER: ["This header is required."]})
    if len(key) > IDEMPOTENCY_MAX:
        return api_error("key", too_long_key(),
                         status.HTTP_400_BAD_REQUEST)
    return key or str(default)


class IdPagination(StrictPageSize, pagination.CursorPagination):
    """Newest first by id, with an opaque cursor (no COUNT over a county's ledger)."""

    ordering = ("-id",)
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class AccountPagination(IdPagination):
    ordering = ("id",)


def _code_filter(prefix: str) -> Callable[[Any, QuerySet[Any], str, str], QuerySet[Any]]:
    def method(self: Any, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # access_region answers 404 for a region outside the caller's scope (no leak).
        region = access_region(self.request.user if self.request else None, value)
        return qs.filter(**{f"{prefix}path__startswith": region.path})

    return method


# --- accounts -------------------------------------------------------------------------------


def account_queryset(user: Any) -> QuerySet[Household]:
    """Households in the user's scope with their account figures, in one query."""
    pending = (
        Entry.objects.filter(household=OuterRef("pk"), points__lt=0, state__in=[Entry.State.PROPOSED,
                                                                                 Entry.State.PUBLICITY])
        .values("household")
        .annotate(s=Sum("points"))
        .values("s")
    )
    zero = Value(0, output_field=IntegerField())
    return (
        access_households(user)
        .select_related("village", "region")
        .annotate(
            balance=Coalesce("points_account__balance", zero),
            entries_count=Coalesce("points_account__entries_count", zero),
            last_sequence=Coalesce("points_account__last_sequence", zero),
            pending=Coalesce(Subquery(pending, output_field=IntegerField()), zero),
        )
    )


class AccountFilter(django_filters.FilterSet):
    village = django_filters.CharFilter(method="filter_village", help_text="Village code.")
    region = django_filters.CharFilter(method="filter_region", help_text="Region code: this region and below.")
    number = django_filters.CharFilter(field_name="number", help_text="Household number (户号).")

    class Meta:
        model = Household
        fields = ["village", "region", "number"]

    filter_village = _code_filter("village__")
    filter_region = _code_filter("region__")


@extend_schema_view(
    list=extend_schema(summary="Points accounts of the households in your scope (cursor pages)",
                       responses={200: AccountSerializer(many=True)}),
    retrieve=extend_schema(summary="One household's account with its latest entries",
                           responses={200: StatementSerializer, 404: NOT_FOUND}),
)
class AccountViewSet(viewsets.ReadOnlyModelViewSet[Household]):
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    pagination_class = AccountPagination
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Household]:
        return account_queryset(self.request.user).order_by("id")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        household = self.get_object()
        entries = (
            access_entries(request.user)
            .filter(household=household)
            .select_related("village", "household", "item")
            .order_by("-id")[:STATEMENT_ROWS]
        )
        return Response({
            "account": AccountSerializer(household).data,
            "entries": EntrySerializer(entries, many=True).data,
        })


# --- entries --------------------------------------------------------------------------------


class EntryFilter(django_filters.FilterSet):
    village = django_filters.CharFilter(method="filter_village", help_text="Village code.")
    household = IdFilter(field_name="household_id", help_text="Household id.")
    status = ChoiceFilter(field_name="state", choices=Entry.State.choices, help_text="Entry state.")
    period = django_filters.CharFilter(field_name="period", help_text="Scoring period, e.g. 2026-10.")

    class Meta:
        model = Entry
        fields = ["village", "household", "status", "period"]

    filter_village = _code_filter("village__")


ENTRY_RESPONSES: dict[int, Any] = {200: EntrySerializer, 400: ErrorSerializer, 403: FORBIDDEN, 404: NOT_FOUND,
                                   409: REFUSED}


@extend_schema_view(
    list=extend_schema(summary="Ledger entries in your scope, newest first (cursor pages)",
                       responses={200: EntrySerializer(many=True)}),
    retrieve=extend_schema(summary="One ledger entry", responses={200: EntrySerializer, 404: NOT_FOUND}),
)
class EntryViewSet(viewsets.ReadOnlyModelViewSet[Entry]):
    serializer_class = EntrySerializer
    filterset_class = EntryFilter
    pagination_class = IdPagination
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Entry]:
        return access_entries(self.request.user).select_related("village", "household", "item").order_by("-id")

    def _entry(self, pk: Any) -> Entry:
        entry = self.get_queryset().filter(pk=pk).first()
        if entry is None:
            raise Http404
        return entry

    def _reply(self, entry: Entry, code: int = status.HTTP_200_OK) -> Response:
        fresh = Entry.objects.select_related("village", "household", "item").get(pk=entry.pk)
        return Response(EntrySerializer(fresh).data, status=code)

    @extend_schema(summary="Propose an entry (grid worker for an item open to grid workers, or the committee)",
                   request=EntryProposeSerializer, parameters=[KEY_REQUIRED],
                   responses={201: EntrySerializer, **ENTRY_RESPONSES})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _key(request)
        if isinstance(key, Response):
            return key
        data = EntryProposeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        household = access_households(request.user).select_related("region", "village").filter(
            pk=v["household"]).first()
        if household is None:
            raise Http404
        version = RuleVersion.objects.filter(rule_set__village_id=household.village_id,
                                             state=RuleVersion.State.ADOPTED).select_related("rule_set").first()
        item = RuleItem.objects.filter(version=version, code=v["item"]).first() if version else None
        if version is None or item is None:
            return api_error("invalid", _("Unknown rule item for this household's village."),
                             status.HTTP_400_BAD_REQUEST, {"item": ["Unknown rule item."]})
        try:
            entries, replayed = ledger.entry_propose_batch(
                actor=request.user, rule_set=version.rule_set, idempotency_key=key,
                proposals=[ledger.Proposal(household, item, v["deed_date"], v["evidence"])],
            )
        except ValidationError as exc:
            return refused(exc)
        return self._reply(entries[0], status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)

    def _review(self, request: Request, pk: Any, *, approve: bool) -> Response:
        entry = self._entry(pk)
        reason = ""
        if not approve:
            data = ReasonSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            reason = data.validated_data["reason"]
        key = _key(request, default=f"api:review:{entry.pk}")
        if isinstance(key, Response):
            return key
        try:
            fresh = ledger.entry_review(actor=request.user, entry=entry, approve=approve, reason=reason,
                                        idempotency_key=key)
        except ValidationError as exc:
            return refused(exc)
        return self._reply(fresh)

    @extend_schema(summary="Approve (committee): publicity starts now", request=None, parameters=[KEY_OPTIONAL],
                   responses=ENTRY_RESPONSES)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._review(request, pk, approve=True)

    @extend_schema(summary="Reject with a reason (committee)", request=ReasonSerializer, parameters=[KEY_OPTIONAL],
                   responses=ENTRY_RESPONSES)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._review(request, pk, approve=False)

    @extend_schema(
        summary="Object to an entry in publicity (a villager of the entry's village)",
        request=ReasonSerializer, parameters=[KEY_OPTIONAL],
        responses={201: ObjectionSerializer, 200: ObjectionSerializer, 400: ErrorSerializer, 403: FORBIDDEN,
                   404: NOT_FOUND, 409: REFUSED},
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def objections(self, request: Request, pk: str | None = None) -> Response:
        # A villager reads only their own household's entries, but may object to any entry of
        # their village on the publicity board.
        q = Q(pk__in=access_entries(request.user).values("pk"))
        resident = villager_resident(request.user)
        if resident is not None:
            q |= Q(village_id=resident.household.village_id, state=Entry.State.PUBLICITY)
        entry = Entry.objects.filter(q, pk=pk or 0).first()
        if entry is None:
            raise Http404
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = _key(request, default=f"api:objection:{entry.pk}")
        if isinstance(key, Response):
            return key
        try:
            objection = ledger.objection_raise(actor=request.user, entry=entry, reason=data.validated_data["reason"],
                                               idempotency_key=key)
        except ValidationError as exc:
            return refused(exc)
        return Response(ObjectionSerializer(objection).data,
                        status=status.HTTP_201_CREATED if created(objection) else status.HTTP_200_OK)

    @extend_schema(summary="The publicity board: entries in publicity of your villages (villagers: your village)",
                   responses={200: EntrySerializer(many=True)})
    @action(detail=False, methods=["get"], filterset_class=None)
    def publicity(self, request: Request) -> Response:
        # A grid worker's board is the whole village's (the village posts one board).
        village_q = scope_q(request.user, via="village__", village_wide=True)
        q = Q() if village_q is None else Q(pk__in=access_entries(request.user).values("pk")) | village_q
        resident = villager_resident(request.user)
        if resident is not None:
            q |= Q(village_id=resident.household.village_id)
        qs = Entry.objects.filter(q, state=Entry.State.PUBLICITY).select_related("village", "household", "item")
        page = self.paginate_queryset(qs.order_by("-id"))
        return self.get_paginated_response(EntrySerializer(page, many=True).data)


# --- shop -----------------------------------------------------------------------------------


class RewardFilter(django_filters.FilterSet):
    village = django_filters.CharFilter(method="filter_village", help_text="Village code.")
    active = BoolFilter(field_name="active")

    class Meta:
        model = Reward
        fields = ["village", "active"]

    filter_village = _code_filter("village__")


@extend_schema_view(
    list=extend_schema(summary="Rewards of the village shops you can see",
                       responses={200: RewardSerializer(many=True)}),
    retrieve=extend_schema(summary="One reward", responses={200: RewardSerializer, 404: NOT_FOUND}),
)
class RewardViewSet(viewsets.ReadOnlyModelViewSet[Reward]):
    serializer_class = RewardSerializer
    filterset_class = RewardFilter
    pagination_class = AccountPagination
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Reward]:
        return access_rewards(self.request.user).select_related("village").order_by("id")


class RedemptionFilter(django_filters.FilterSet):
    household = IdFilter(field_name="household_id", help_text="Household id.")
    status = ChoiceFilter(field_name="state", choices=Redemption.State.choices)

    class Meta:
        model = Redemption
        fields = ["household", "status"]


REDEMPTION_RESPONSES: dict[int, Any] = {200: RedemptionSerializer, 400: ErrorSerializer, 403: FORBIDDEN,
                                        404: NOT_FOUND, 409: REFUSED}


@extend_schema_view(
    list=extend_schema(summary="Redemptions in your scope, newest first (cursor pages)",
                       responses={200: RedemptionSerializer(many=True)}),
    retrieve=extend_schema(summary="One redemption", responses={200: RedemptionSerializer, 404: NOT_FOUND}),
)
class RedemptionViewSet(viewsets.ReadOnlyModelViewSet[Redemption]):
    serializer_class = RedemptionSerializer
    filterset_class = RedemptionFilter
    pagination_class = IdPagination
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Redemption]:
        return access_redemptions(self.request.user).select_related("village", "reward").order_by("-id")

    def _reply(self, redemption: Redemption, code: int = status.HTTP_200_OK) -> Response:
        fresh = Redemption.objects.select_related("village", "reward").get(pk=redemption.pk)
        return Response(RedemptionSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Redeem: the shop keeper at the counter for a household, or a villager's reservation",
        request=RedemptionCreateSerializer, parameters=[KEY_REQUIRED],
        responses={201: RedemptionSerializer, **REDEMPTION_RESPONSES},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _key(request)
        if isinstance(key, Response):
            return key
        data = RedemptionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        household = access_households(request.user).select_related("region", "village").filter(
            pk=v["household"]).first()
        reward = access_rewards(request.user).filter(pk=v["reward"]).first()
        if household is None or reward is None:
            raise Http404
        channel = v["channel"] or (
            Redemption.Channel.COUNTER if scope_for(request.user).is_staff_scope else Redemption.Channel.PHONE)
        if channel not in Redemption.Channel.values:
            return api_error("invalid", _("Unknown channel."), status.HTTP_400_BAD_REQUEST,
                             {"channel": ["counter or phone"]})
        try:
            redemption = shop.redemption_create(actor=request.user, household=household, reward=reward,
                                                quantity=v["quantity"], channel=channel, idempotency_key=key)
        except ValidationError as exc:
            return refused(exc)
        # 201 only for the call that made it, from the service's own answer (a check before
        # the call would let concurrent replays of one key all answer 201).
        return self._reply(redemption, status.HTTP_201_CREATED if created(redemption) else status.HTTP_200_OK)

    def _act(self, request: Request, pk: Any, fn: Any, name: str) -> Response:
        redemption = self.get_queryset().filter(pk=pk).first()
        if redemption is None:
            raise Http404
        key = _key(request, default=f"api:{name}:{redemption.pk}")
        if isinstance(key, Response):
            return key
        try:
            fresh = fn(actor=request.user, redemption=redemption, idempotency_key=key)
        except ValidationError as exc:
            return refused(exc)
        return self._reply(fresh)

    @extend_schema(summary="Cancel a reservation not yet collected (the household or the shop)", request=None,
                   parameters=[KEY_OPTIONAL], responses=REDEMPTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, shop.redemption_cancel, "cancel")

    @extend_schema(summary="Hand over a reservation (shop keeper)", request=None, parameters=[KEY_OPTIONAL],
                   responses=REDEMPTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def collect(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, shop.redemption_collect, "collect")


def too_long_key() -> str:
    return _("%(h)s is longer than %(n)d characters.") % {"h": IDEMPOTENCY_HEADER, "n": IDEMPOTENCY_MAX}
