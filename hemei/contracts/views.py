"""Contract pages: staff under /w/contracts/, the public detail under /v/<code>/contracts/<id>/.

Thin: every read goes through `hemei.contracts.access`, every write through the services.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.assets.models import Asset
from hemei.contracts import access, io, services
from hemei.contracts.board import PUBLIC_STATUSES
from hemei.contracts.forms import ContractNewForm, ContractStepForm
from hemei.contracts.models import Contract, ContractReview, PaymentDue
from hemei.contracts.sweep import EXPIRY_DAYS, with_paid
from hemei.core.parsing import form_values, parse_id, picked, require_date
from hemei.core.xlsx import XLSX_CONTENT_TYPE, xlsx_response
from hemei.core.xlsx_import import xlsx_import_page
from hemei.meetings.models import Meeting
from hemei.regions.access import require_staff_scope
from hemei.regions.models import Level, Region

XLSX = XLSX_CONTENT_TYPE
PAGE = 200


def _village(request: HttpRequest) -> Region:
    code = picked(request, "village")
    if code:
        return access.access_village(request.user, code)
    village = access.access_villages(request.user).first()
    if village is None:
        raise Http404
    return village


def overdue_q(today: dt.date) -> Exists:
    late = with_paid(PaymentDue.objects.filter(contract=OuterRef("pk"), due_on__lt=today)).filter(
        paid__lt=F("amount")
    )
    return Exists(late)


def flagged_q() -> Exists:
    return Exists(ContractReview.objects.filter(contract=OuterRef("pk"), outcome=ContractReview.Outcome.PENDING))


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    today = timezone.localdate()
    qs: QuerySet[Contract] = access.access_contracts(request.user).select_related("village", "asset")
    qs = qs.annotate(overdue=overdue_q(today), flagged=flagged_q())
    f = {k: request.GET.get(k, "") for k in ("village", "status", "flagged", "expiring", "overdue", "awaiting")}
    villages = list(access.access_villages(request.user))
    may_create = [v for v in villages if access.may(request.user, v, access.CONTRACT_ROLES)]
    reviews_for = [v for v in villages if access.may(request.user, v, access.TOWNSHIP_REVIEW_ROLES)]
    # The township's queue: passed by the meeting, not yet approved (a returned one stays in it:
    # only the township's approval moves it on).
    awaiting_q = Q(status=Contract.Status.DECIDING, meeting_item__isnull=False)
    n_awaiting = access.access_contracts(request.user).filter(awaiting_q).count() if reviews_for else 0
    if not request.GET and n_awaiting:
        f["awaiting"] = "1"  # township staff land on their queue while it has anything in it
    if f["village"]:
        qs = qs.filter(village__code=f["village"])
    if f["status"] in Contract.Status.values:
        qs = qs.filter(status=f["status"])
    if f["flagged"]:
        qs = qs.filter(flagged=True)
    if f["expiring"]:
        qs = qs.filter(status__in=services.LIVE, end__gte=today, end__lte=today + dt.timedelta(days=EXPIRY_DAYS))
    if f["overdue"]:
        qs = qs.filter(overdue=True)
    if f["awaiting"]:
        qs = qs.filter(awaiting_q)
    return render(request, "contracts/list.html", {
        "contracts": list(qs.order_by("village__code", "-start", "number")[:PAGE]), "f": f, "villages": villages,
        "statuses": Contract.Status.choices, "may_create": may_create, "today": today,
        "township": bool(reviews_for), "n_awaiting": n_awaiting,
    })


@login_required
@require_http_methods(["GET", "POST"])
def contract_new(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    village = _village(request)
    if not access.may(request.user, village, access.CONTRACT_ROLES):
        raise Http404
    assets = Asset.objects.filter(village=village, status=Asset.Status.IDLE).order_by("code")
    errors: list[str] = []
    if request.method == "POST":
        p = form_values(ContractNewForm(request.POST))
        try:
            asset_pk = parse_id(p.get("asset"))
            asset = assets.filter(pk=asset_pk).first() if asset_pk else None
            schedule = []
            for due_on, amount in zip(p.get("due_on", []), p.get("due_amount", []), strict=False):
                if due_on.strip() or amount.strip():
                    schedule.append((require_date(due_on), amount))
            contract = services.contract_create(
                actor=request.user, village=village, kind=p.get("kind", ""), subject=p.get("subject", ""),
                party_name=p.get("party_name", ""), party_kind=p.get("party_kind", ""),
                party_phone=p.get("party_phone", ""), start=require_date(p.get("start", "")),
                end=require_date(p.get("end", "")),
                amount=p.get("amount", ""), schedule=schedule, asset=asset, area_mu=p.get("area_mu") or None,
                number=p.get("number", ""),
            )
        except ValidationError as exc:
            errors += exc.messages
        else:
            messages.success(request, _("Contract %(n)s saved as a draft.") % {"n": contract.number})
            return redirect("contract-detail", pk=contract.pk)
    return render(request, "contracts/form.html", {
        "village": village, "assets": assets, "errors": errors, "post": request.POST,
        "kinds": Contract.Kind.choices, "party_kinds": Contract.PartyKind.choices, "rows": range(4),
    })


def _detail_context(request: HttpRequest, contract: Contract) -> dict[str, Any]:
    today = timezone.localdate()
    schedule = list(with_paid(contract.schedule.all()).prefetch_related("payments"))
    for due in schedule:
        due.outstanding = due.amount - due.paid
        due.late = due.due_on < today and due.outstanding > 0
    user = request.user
    committee = access.may(user, contract.village, access.CONTRACT_ROLES)
    meetings = Meeting.objects.filter(region=contract.village, kind__in=services.DECIDING_KINDS).order_by("-held_at")
    if contract.discussed_on is not None:  # only meetings the service would accept
        meetings = meetings.filter(held_at__gte=dt.datetime.combine(
            contract.discussed_on, dt.time.min, tzinfo=timezone.get_current_timezone()))
    tabled = None
    if contract.status == Contract.Status.DECIDING and contract.meeting_item_id is None:
        tabled = services.pending_items(contract).select_related("meeting").order_by("-id").first()
    return {
        "contract": contract,
        "tabled": tabled,
        "events": list(contract.events.select_related("actor", "meeting_item__meeting")),
        "schedule": schedule,
        "received": sum((d.paid for d in schedule), Decimal(0)),
        "reviews": list(contract.reviews.all()),
        "open_review": contract.reviews.filter(outcome=ContractReview.Outcome.PENDING).first(),
        "missing": services.missing_steps(contract),
        "committee": committee,
        "township": access.may(user, contract.village, access.TOWNSHIP_REVIEW_ROLES),
        "reviewer": access.may(user, contract.village, access.REVIEW_ROLES),
        "meetings": meetings[:20] if committee else [],
        "outcomes": [c for c in ContractReview.Outcome.choices if c[0] != ContractReview.Outcome.PENDING],
        "today": today,
        "S": Contract.Status,
        "form_key": uuid.uuid4().hex,  # the payment form: a double submit records once
    }


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    contract = access.access_contract(request.user, pk)
    return render(request, "contracts/detail.html", _detail_context(request, contract))


def _pk(value: str | None) -> int:
    """A primary key from a form field; 0 (matches nothing) for anything but ASCII digits."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 18 else 0


@login_required
@require_POST
def contract_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One POST endpoint per step; the services check the roles and the state."""
    require_staff_scope(request.user)
    contract = access.access_contract(request.user, pk)
    p, user = form_values(ContractStepForm(request.POST)), request.user
    try:
        if action == "discuss":
            services.contract_discuss(actor=user, contract=contract, on=require_date(p.get("on", "")),
                                      summary=p.get("summary", ""))
        elif action == "table":
            meeting = Meeting.objects.filter(pk=_pk(p.get("meeting")), region=contract.village).first()
            if meeting is None:
                raise ValidationError(_("Choose a meeting."))
            services.contract_table(actor=user, contract=contract, meeting=meeting)
        elif action in ("approve", "return"):
            services.contract_township_review(actor=user, contract=contract, approve=action == "approve",
                                              note=p.get("note", ""))
        elif action == "sign":
            services.contract_sign(actor=user, contract=contract, on=require_date(p.get("on", "")))
        elif action == "pay":
            due = PaymentDue.objects.filter(pk=_pk(p.get("due")), contract=contract).first()
            if due is None:
                raise ValidationError(_("Choose an instalment."))
            services.payment_record(actor=user, due=due, amount=p.get("amount", ""),
                                    paid_on=require_date(p.get("on", "")), note=p.get("note", ""),
                                    idempotency_key=p.get("key", ""))
        elif action == "terminate":
            services.contract_end(actor=user, contract=contract, status=Contract.Status.TERMINATED,
                                  on=require_date(p.get("on", "")), reason=p.get("reason", ""))
        elif action == "flag":
            services.contract_flag(actor=user, contract=contract, reason=p.get("reason", ""))
        elif action == "clear":
            review = contract.reviews.filter(outcome=ContractReview.Outcome.PENDING).first()
            if review is None:
                raise ValidationError(_("There is no open review."))
            services.review_conclude(actor=user, review=review, outcome=p.get("outcome", ""), note=p.get("note", ""))
        else:
            raise Http404
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("Saved."))
    return redirect("contract-detail", pk=contract.pk)


@login_required
def review_overview(request: HttpRequest) -> HttpResponse:
    """The township's 清理 overview: per village, contracts, under review, concluded by outcome."""
    require_staff_scope(request.user)
    villages = access.access_villages(request.user)
    outcome = ContractReview.Outcome
    rows = list(
        villages.annotate(
            n_contracts=Count("contracts", distinct=True),
            flagged=Count("contracts__reviews", filter=Q(contracts__reviews__outcome=outcome.PENDING), distinct=True),
            cleared=Count("contracts__reviews", filter=~Q(contracts__reviews__outcome=outcome.PENDING), distinct=True),
            kept=Count("contracts__reviews", filter=Q(contracts__reviews__outcome=outcome.KEPT), distinct=True),
            renegotiated=Count("contracts__reviews", filter=Q(contracts__reviews__outcome=outcome.RENEGOTIATED),
                               distinct=True),
            terminated=Count("contracts__reviews", filter=Q(contracts__reviews__outcome=outcome.TERMINATED),
                             distinct=True),
        ).filter(n_contracts__gt=0)
    )
    totals = {k: sum(getattr(r, k) for r in rows) for k in ("n_contracts", "flagged", "cleared", "kept",
                                                                "renegotiated", "terminated")}
    return render(request, "contracts/review.html", {"rows": rows, "totals": totals})


@login_required
@require_http_methods(["GET", "POST"])
def contract_import_view(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    village = _village(request)
    if not access.may(request.user, village, access.CONTRACT_ROLES):
        raise Http404
    return xlsx_import_page(
        request, template="contracts/import.html",
        run=lambda data: io.contract_import(actor=request.user, village=village, data=data),
        success=_("%(n)d contracts imported as drafts."),
        context={"village": village, "headers": io.HEADERS},
        done_url=f"/w/contracts/?village={village.code}",
    )


@login_required
def contract_export_view(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    village = _village(request)
    try:
        data = io.contract_export(actor=request.user, village=village)
    except ValidationError:
        raise Http404 from None
    return xlsx_response(data, f"contracts-{village.code}.xlsx")


def public_contract(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """No login: a signed contract of the village as the board shows it (masked party, no phone)."""
    village = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    if village is None:
        raise Http404
    contract = (
        Contract.objects.filter(village=village, status__in=PUBLIC_STATUSES, pk=pk)
        .select_related("meeting_item__meeting", "asset").first()
    )
    if contract is None:
        raise Http404
    return render(request, "contracts/public.html", {"village": village, "contract": contract})
