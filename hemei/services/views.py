"""Study-tour pages (研学).

The public pages need no account: a venue's open slots, a booking form (phone-first, large
type; rate-limited per address with `hemei.core.throttle`; a key rendered into the form makes
a double tap return the first booking, `hemei.core.idempotency`) and the receipt. They show no
personal data except the booker's own contact, masked. The staff pages list a venue's slots
with their fill, a slot's bookings (contacts masked, an audited reveal), the booking moves and
the Excel export. Thin: reads through `selectors`/`access`, writes through `services`.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.core import throttle
from hemei.core.masking import mask_name, mask_phone
from hemei.core.parsing import form_values, parse_date
from hemei.core.scope import may
from hemei.core.views import flash_errors
from hemei.core.xlsx import xlsx_response
from hemei.regions.access import require_staff_scope
from hemei.services import selectors, services
from hemei.services.access import MANAGE_ROLES, access_booking, access_slot, access_venue, access_venues
from hemei.services.export import slots_export
from hemei.services.forms import BookingForm, NoteForm, SlotForm
from hemei.services.models import Booking

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOOKING_FIELDS = ("organisation", "group_kind", "group_size", "contact_name", "contact_phone", "key")


# --- public ---------------------------------------------------------------------------------


def tour_home(request: HttpRequest) -> HttpResponse:
    venues = list(selectors.public_venues()[:100])
    return render(request, "services/tour_home.html", {"venues": venues})


def tour_venue(request: HttpRequest, pk: int) -> HttpResponse:
    venue = selectors.public_venue(pk)
    return render(request, "services/tour_venue.html",
                  {"venue": venue, "slots": list(selectors.open_slots(venue)[:200])})


@require_http_methods(["GET", "POST"])
def tour_book(request: HttpRequest, pk: int) -> HttpResponse:
    slot = selectors.public_slot(pk)
    values = {name: "" for name in BOOKING_FIELDS}
    values.update(group_kind=Booking.GroupKind.SCHOOL, key=uuid.uuid4().hex)
    errors: list[str] = []
    if request.method == "POST":
        values = {**dict.fromkeys(BOOKING_FIELDS, ""), **form_values(BookingForm(request.POST))}
        # Counted per address before anything is written: a script filling the form gets 429.
        if (wait := throttle.hit("study_booking", throttle.source(request))) is not None:
            return throttle.too_many(wait)
        try:
            booking = services.booking_create(
                actor=services.PUBLIC, slot=slot, organisation=values["organisation"],
                group_kind=values["group_kind"], group_size=values["group_size"],
                contact_name=values["contact_name"], contact_phone=values["contact_phone"],
                idempotency_key=values["key"][:64] or uuid.uuid4().hex,
            )
        except ValidationError as exc:
            errors.extend(exc.messages)
            slot.refresh_from_db()
        else:
            return redirect("tour-receipt", ref=booking.ref)
    return render(request, "services/tour_book.html",
                  {"slot": slot, "values": values, "errors": errors, "kinds": Booking.GroupKind.choices},
                  status=400 if errors else 200)


def tour_receipt(request: HttpRequest, ref: str) -> HttpResponse:
    booking = get_object_or_404(Booking.objects.select_related("slot__venue"), ref=ref.upper()[:12])
    return render(request, "services/tour_receipt.html", {
        "booking": booking, "name": mask_name(booking.contact_name), "phone": mask_phone(booking.contact_phone),
    })


# --- staff ----------------------------------------------------------------------------------


def _dates(request: HttpRequest) -> tuple[dt.date | None, dt.date | None]:
    return parse_date(request.GET.get("from")), parse_date(request.GET.get("to"))


@login_required
def venue_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    venues = list(access_venues(request.user).select_related("region")[:200])
    return render(request, "services/venue_list.html", {"venues": venues})


@login_required
@require_http_methods(["GET", "POST"])
def venue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    venue = access_venue(request.user, pk)
    manage = may(request.user, MANAGE_ROLES, venue.region)
    form = SlotForm(request.POST or None, initial={"capacity": venue.default_capacity})
    if request.method == "POST":
        if not manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.slot_create(actor=request.user, venue=venue, starts_at=form.cleaned_data["starts_at"],
                                     ends_at=form.cleaned_data["ends_at"], capacity=form.cleaned_data["capacity"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The slot was added."))
                return redirect("tour-staff-venue", pk=venue.pk)
    date_from, date_to = _dates(request)
    if date_from is None and date_to is None:
        date_from = timezone.localdate() - dt.timedelta(days=7)
    slots = list(selectors.venue_slots(venue, date_from=date_from, date_to=date_to)[:500])
    return render(request, "services/venue_detail.html", {
        "venue": venue, "slots": slots, "form": form, "manage": manage,
        "date_from": date_from, "date_to": date_to, "now": timezone.now(),
    }, status=400 if form.errors else 200)


@login_required
def venue_export(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    venue = access_venue(request.user, pk)
    date_from, date_to = _dates(request)
    # Contacts masked unless asked for (`reveal=1`; 403 without the permission).
    content = slots_export(actor=request.user, venue=venue, date_from=date_from, date_to=date_to,
                           reveal=request.GET.get("reveal") == "1")
    return xlsx_response(content, f"study-tours-{venue.pk}.xlsx")


@login_required
def slot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    slot = access_slot(request.user, pk)
    return render(request, "services/slot_detail.html", {
        "slot": slot, "rows": selectors.booking_rows(request.user, slot),
        "manage": may(request.user, MANAGE_ROLES, slot.region), "may_reveal": selectors.may_reveal(request.user),
        "started": slot.starts_at <= timezone.now(),
    })


STEPS = {
    "confirm": lambda user, b, note: services.booking_confirm(actor=user, booking=b),
    "cancel": lambda user, b, note: services.booking_cancel(actor=user, booking=b, reason=note),
    "visited": lambda user, b, note: services.booking_mark_visited(actor=user, booking=b),
    "no_show": lambda user, b, note: services.booking_mark_no_show(actor=user, booking=b, note=note),
}


@login_required
@require_POST
def booking_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    booking = access_booking(request.user, pk)
    if step not in STEPS:
        raise Http404
    try:
        STEPS[step](request.user, booking, form_values(NoteForm(request.POST)).get("note", ""))
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Booking %(ref)s: %(status)s.") % {"ref": booking.ref,
                                                                       "status": booking.get_status_display()})
    return redirect("tour-staff-slot", pk=booking.slot_id)


@login_required
@require_POST
def booking_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    booking = access_booking(request.user, pk)
    contact = services.booking_contact_reveal(actor=request.user, booking=booking, request=request)
    return render(request, "services/booking_contact.html", {"booking": booking, "contact": contact})


# --- 专精特新 self-check (public, nothing stored) ------------------------------------------------


@require_http_methods(["GET", "POST"])
def sme_check(request: HttpRequest) -> HttpResponse:
    from hemei.core.parsing import parse_year
    from hemei.services import sme
    from hemei.services.forms import SmeCheckForm

    year = parse_year(request.GET.get("year")) or max(sme.RULESETS)
    missing = year if year not in sme.RULESETS else None  # say so, and offer the years there are
    rules = sme.ruleset(max(sme.RULESETS) if missing else year)
    form = SmeCheckForm(request.POST or None)
    results = (sme.evaluate(rules, form.cleaned_data)
               if request.method == "POST" and form.is_valid() and not missing else None)
    return render(request, "services/sme_check.html", {
        "rules": rules, "years": sorted(sme.RULESETS), "form": form, "results": results, "missing": missing,
        "eligible": results is not None and all(r.passed for r in results),
    }, status=404 if missing else 400 if form.errors else 200)
