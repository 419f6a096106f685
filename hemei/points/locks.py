"""The one lock order of every write that reserves or spends a household's points.

A deduction in publicity reserves points (`chain.pending_deductions`); a redemption, a
reversal and a cancellation spend or give back; posting makes reserved deductions effective.
Each checks "balance + pending deductions" and must see the other writers' committed rows, so
they all take the same locks, in the same order (so two of them never deadlock):

1. the village's chain head,
2. the village's rule set,
3. the households' accounts, in household id order,

then, in the writer itself, a reward and a redemption row. With the head first, two writers
for one village never both read a balance before the other's write: on PostgreSQL a redemption
of (available − 5) and a −10 deduction proposed at the same moment could both be accepted
when the proposal locked only the rule set and the redemption only head and account (issue
12). On SQLite the IMMEDIATE transaction serialises writers anyway. Posting (`chain.post_due`)
takes head → account, a prefix of this order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hemei.core.chain import Head
from hemei.points import posting as chain
from hemei.points.models import Account, RuleSet
from hemei.regions.models import Household


@dataclass(frozen=True)
class PointsLocks:
    head: Head
    rule_set: RuleSet | None
    accounts: dict[int, Account]

    def account(self, household: Household | int) -> Account:
        return self.accounts[household if isinstance(household, int) else household.pk]

    def available(self, household: Household) -> int:
        """Balance minus the deductions still pending, read under the locks."""
        return self.account(household).balance + chain.pending_deductions(household)


def lock_points(*, village_id: int, households: Iterable[Household]) -> PointsLocks:
    """Take the locks of the module docstring inside the caller's transaction."""
    head = chain.lock_head_of(village_id)
    rule_set = RuleSet.objects.select_for_update().filter(village_id=village_id).first()
    unique = sorted({h.pk: h for h in households}.values(), key=lambda h: h.pk)
    return PointsLocks(head, rule_set, {h.pk: chain.lock_account(h) for h in unique})
