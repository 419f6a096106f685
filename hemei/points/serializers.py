"""Serializers of the points REST API (`hemei.points.api`).

States, kinds and channels are written as plain strings with their values in the help text:
several models have a `state` or `kind` with different choice sets, and one OpenAPI enum name
per choice set would need a settings override for each.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from hemei.core.parsing import MAX_ID
from hemei.points.models import Entry, Objection, Redemption, Reward
from hemei.regions.models import Household

ENTRY_STATES = ", ".join(Entry.State.values)
ENTRY_KINDS = ", ".join(Entry.Kind.values)


class AccountSerializer(serializers.Serializer[Household]):
    """A household's points account (a household without any effective entry shows 0)."""

    id = serializers.IntegerField(help_text="Household id.")
    number = serializers.CharField(help_text="Household number (户号) within its village.")
    village = serializers.CharField(help_text="Village code.")
    region = serializers.CharField(help_text="Grid code.")
    lives_in_village = serializers.BooleanField()
    balance = serializers.IntegerField(help_text="Sum of the household's effective entries.")
    available = serializers.IntegerField(
        help_text="What the household may spend: the balance minus deductions still pending (never below zero)."
    )
    entries_count = serializers.IntegerField(help_text="Effective entries.")
    last_sequence = serializers.IntegerField(help_text="Chain sequence of the household's last effective entry.")

    def to_representation(self, household: Household) -> dict[str, Any]:
        # Annotated by the API's queryset (account_queryset): no query per row.
        balance = int(getattr(household, "balance", 0) or 0)
        pending = int(getattr(household, "pending", 0) or 0)
        return {
            "id": household.pk,
            "number": household.number,
            "village": household.village.code,
            "region": household.region.code,
            "lives_in_village": household.lives_in_village,
            "balance": balance,
            "available": max(balance + pending, 0),
            "entries_count": int(getattr(household, "entries_count", 0) or 0),
            "last_sequence": int(getattr(household, "last_sequence", 0) or 0),
        }


class EntrySerializer(serializers.ModelSerializer[Entry]):
    village = serializers.CharField(source="village.code", read_only=True, help_text="Village code.")
    household = serializers.IntegerField(source="household_id", read_only=True, help_text="Household id.")
    household_number = serializers.CharField(source="household.number", read_only=True)
    item = serializers.CharField(source="item.code", read_only=True, default=None, allow_null=True,
                                 help_text="Rule item code (blank for redemptions and cancellations).")
    version = serializers.IntegerField(source="version_id", read_only=True, allow_null=True,
                                       help_text="Rule version id the entry was made under.")
    kind = serializers.CharField(read_only=True, help_text=f"One of: {ENTRY_KINDS}.")
    state = serializers.CharField(read_only=True, help_text=f"One of: {ENTRY_STATES}.")
    corrects = serializers.IntegerField(source="corrects_id", read_only=True, allow_null=True)

    class Meta:
        model = Entry
        fields = ["id", "village", "household", "household_number", "kind", "item", "version", "points",
                  "deed_date", "period", "evidence", "reason", "corrects", "state", "proposed_at", "reviewed_at",
                  "publicity_until", "open_objections", "effective_at", "sequence", "prev_hash", "entry_hash"]
        read_only_fields = fields


class StatementSerializer(serializers.Serializer[Household]):
    """An account with its latest entries (every state, newest first)."""

    account = AccountSerializer()
    entries = EntrySerializer(many=True)


class EntryProposeSerializer(serializers.Serializer[Any]):
    household = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Household id (in your scope).")
    item = serializers.CharField(max_length=10, help_text="Rule item code of the village's adopted rules, e.g. J1.")
    deed_date = serializers.DateField(help_text="Date of the deed (not in the future).")
    evidence = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


class ObjectionSerializer(serializers.ModelSerializer[Objection]):
    entry = serializers.IntegerField(source="entry_id", read_only=True)
    state = serializers.CharField(read_only=True, help_text="One of: " + ", ".join(Objection.State.values) + ".")

    class Meta:
        model = Objection
        fields = ["id", "entry", "reason", "state", "raised_at", "decided_at", "decision"]
        read_only_fields = fields


class RewardSerializer(serializers.ModelSerializer[Reward]):
    village = serializers.CharField(source="village.code", read_only=True, help_text="Village code.")

    class Meta:
        model = Reward
        fields = ["id", "village", "name", "price", "stock", "limit_per_period", "own_product", "active"]
        read_only_fields = fields


class RedemptionSerializer(serializers.ModelSerializer[Redemption]):
    village = serializers.CharField(source="village.code", read_only=True, help_text="Village code.")
    household = serializers.IntegerField(source="household_id", read_only=True)
    reward = serializers.IntegerField(source="reward_id", read_only=True)
    reward_name = serializers.CharField(source="reward.name", read_only=True)
    entry = serializers.IntegerField(source="entry_id", read_only=True, help_text="The redemption's ledger entry.")
    state = serializers.CharField(read_only=True, help_text="One of: " + ", ".join(Redemption.State.values) + ".")
    channel = serializers.CharField(read_only=True, help_text="One of: " + ", ".join(Redemption.Channel.values) + ".")

    class Meta:
        model = Redemption
        fields = ["id", "village", "household", "reward", "reward_name", "quantity", "points", "period", "state",
                  "channel", "entry", "created_at", "collected_at", "cancelled_at"]
        read_only_fields = fields


class RedemptionCreateSerializer(serializers.Serializer[Any]):
    household = serializers.IntegerField(min_value=1, max_value=MAX_ID,
                                         help_text="Household id (a villager: your own household).")
    reward = serializers.IntegerField(min_value=1, max_value=MAX_ID,
                                      help_text="Reward id of the household's village shop.")
    quantity = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    channel = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="counter (shop keeper, collected at once) or phone (villager's reservation). "
                  "Default: counter for staff, phone for a villager.",
    )
