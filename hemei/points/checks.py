"""`hemei verify` invariants of the points ledger and the shop (ARCHITECTURE rule 4)."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Q, Sum

from hemei.core.chain import verify_kind
from hemei.core.verify import LIMIT, invariant
from hemei.points import posting
from hemei.points.models import Account, Entry, Reward, StockMovement

TRIGGER = "points_entry_effective_immutable"


def check_chains() -> list[str]:
    """Every village's effective entries re-derive to its stored hashes and chain head. `hemei
    verify` runs it as "points-chains", registered with the chain itself (`posting.SPEC`)."""
    return verify_kind(posting.SPEC)


@invariant("points-balances")
def check_balances() -> list[str]:
    """Each account's cached balance equals the sum of its household's effective entries and
    is never negative; every household with effective entries has an account."""
    sums = dict(
        Entry.objects.filter(state=Entry.State.EFFECTIVE)
        .values_list("household_id")
        .annotate(s=Sum("points"), n=Count("pk"))
        .values_list("household_id", "s")
    )
    problems: list[str] = []
    seen: set[int] = set()
    for household_id, balance in Account.objects.values_list("household_id", "balance").iterator(chunk_size=5000):
        seen.add(household_id)
        derived = int(sums.get(household_id) or 0)
        if balance != derived:
            problems.append(f"household {household_id}: balance {balance}, effective entries sum to {derived}")
        if balance < 0:
            problems.append(f"household {household_id}: negative balance {balance}")
    missing = set(sums) - seen
    if missing:
        problems.append(f"{len(missing)} households with effective entries but no account")
    return problems[:LIMIT]


@invariant("points-stock")
def check_stock() -> list[str]:
    """Each reward's stock equals the sum of its stock movements and is never negative."""
    sums = dict(
        StockMovement.objects.values_list("reward_id").annotate(s=Sum("quantity")).values_list("reward_id", "s")
    )
    problems = []
    for pk, stock in Reward.objects.values_list("pk", "stock"):
        if stock != int(sums.get(pk) or 0) or stock < 0:
            problems.append(f"reward {pk}: stock {stock}, movements sum to {int(sums.get(pk) or 0)}")
    return problems[:LIMIT]


@invariant("points-entries")
def check_entries() -> list[str]:
    """Effective entries carry their hash; nothing effective has an open objection; the
    database guard against changing effective entries is present."""
    problems = []
    bad = Entry.objects.filter(state=Entry.State.EFFECTIVE).filter(Q(entry_hash="") | Q(open_objections__gt=0))
    if bad.exists():
        problems.append(f"{bad.count()} effective entries without a hash or with an open objection")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='points_entry'")
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'points_entry'::regclass AND NOT tgisinternal"
            )
        else:
            return problems
        names = {row[0] for row in cursor.fetchall()}
    if TRIGGER not in names:
        problems.append("the points entry table has no guard against changing effective entries")
    return problems


@invariant("points-reservations")
def check_reservations() -> list[str]:
    """Every deduction still pending can take effect: for each household the balance covers
    all its pending deductions (`chain.pending_deductions`). A deduction beyond that would
    stay in publicity for ever (issue 12: a redemption and a deduction both accepted at once)."""
    pending = (
        Entry.objects.filter(points__lt=0, state__in=[Entry.State.PROPOSED, Entry.State.PUBLICITY])
        .values_list("household_id")
        .annotate(s=Sum("points"), n=Count("pk"))
        .values_list("household_id", "s", "n")
    )
    balances = dict(Account.objects.values_list("household_id", "balance"))
    problems = []
    for household_id, reserved, n in pending:
        balance = int(balances.get(household_id) or 0)
        if balance + int(reserved) < 0:
            problems.append(
                f"household {household_id}: {n} pending deductions of {-int(reserved)} points but a balance of "
                f"{balance}: they can never all take effect"
            )
    return problems[:LIMIT]
