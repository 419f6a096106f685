"""Quorum and majority, after the Organic Law of Villagers' Committees (村民委员会组织法).

- 村民会议 (art. 22): it may meet with more than half of the adult villagers (十八周岁以上村民
  的过半数) or with representatives of at least two thirds of the households (三分之二以上的户
  的代表) present; a decision needs more than half of those present (到会人员的过半数).
- 村民代表会议 (art. 26): at least two thirds of its members present; decisions by more than
  half of those present.
- Other meetings (两委, 党员大会, 民主议事会, …): no legal quorum is encoded; if the members are
  given, more than half of them must be present. Decisions by more than half of those present.

"以上" in Chinese statutes includes the figure itself (two thirds exactly is enough); "过半数"
means strictly more than half. Abstentions and absent votes count against a proposal, since
the majority is of those present, not of the votes cast.
"""

from __future__ import annotations

KIND_VILLAGERS = "villagers"
KIND_REPRESENTATIVES = "representatives"


def more_than_half(part: int, whole: int) -> bool:
    return 2 * part > whole


def at_least_two_thirds(part: int, whole: int) -> bool:
    return 3 * part >= 2 * whole


def quorum_met(
    kind: str,
    *,
    attendees: int,
    eligible: int | None,
    households_total: int | None = None,
    households_present: int | None = None,
) -> bool:
    if kind == KIND_VILLAGERS:
        by_people = eligible is not None and eligible > 0 and more_than_half(attendees, eligible)
        by_households = (
            households_total is not None
            and households_total > 0
            and households_present is not None
            and at_least_two_thirds(households_present, households_total)
        )
        return by_people or by_households
    if kind == KIND_REPRESENTATIVES:
        return eligible is not None and eligible > 0 and at_least_two_thirds(attendees, eligible)
    if eligible:
        return more_than_half(attendees, eligible)
    return attendees > 0


def passes(
    kind: str,
    *,
    attendees: int,
    votes_for: int,
    eligible: int | None,
    households_total: int | None = None,
    households_present: int | None = None,
) -> bool:
    """Quorum present and more than half of those present voting for."""
    return quorum_met(
        kind,
        attendees=attendees,
        eligible=eligible,
        households_total=households_total,
        households_present=households_present,
    ) and more_than_half(votes_for, attendees)
