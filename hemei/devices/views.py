"""Device and alarm pages. Thin: reads through `hemei.devices.access` (out of scope → 404),
writes through `hemei.devices.services`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.core.parsing import form_values
from hemei.core.xlsx import xlsx_response
from hemei.devices import services
from hemei.devices.access import (
    MANAGE_ROLES,
    access_alarm,
    access_alarms,
    access_device,
    access_devices,
    may_handle,
    may_read_dead_letters,
)
from hemei.devices.export import alarms_export, devices_export
from hemei.devices.forms import DeviceForm, NextForm, NoteForm
from hemei.devices.models import Alarm, DeadLetter, Device, Kind, Severity
from hemei.regions.access import access_regions, require_staff_scope, scope_for
from hemei.regions.models import Level

PAGE_SIZE = 50


def _devices(request: HttpRequest) -> QuerySet[Device]:
    qs = access_devices(request.user).select_related("region")
    kind = request.GET.get("kind", "")
    if kind in Kind.values:
        qs = qs.filter(kind=kind)
    if request.GET.get("online") in ("0", "1"):
        qs = qs.filter(online=request.GET["online"] == "1")
    return qs.order_by("code")


def _alarms(request: HttpRequest) -> QuerySet[Alarm]:
    qs = access_alarms(request.user).select_related("device", "region", "acknowledged_by", "case")
    state = request.GET.get("state", "open")
    if state == "open":
        qs = qs.exclude(state=Alarm.State.CLEARED)
    elif state in Alarm.State.values:
        qs = qs.filter(state=state)
    severity = request.GET.get("severity", "")
    if severity in Severity.values:
        qs = qs.filter(severity=severity)
    return qs.order_by("-last_at", "-id")


def _manageable_regions(request: HttpRequest) -> list[tuple[str, str]]:
    scope = scope_for(request.user)
    regions = access_regions(request.user, write=True).filter(level__in=(Level.VILLAGE, Level.GRID)).order_by("code")
    return [(r.code, f"{r.name} ({r.code})") for r in regions[:500] if scope.roles_over(r.path) & MANAGE_ROLES]


@login_required
def device_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    page = Paginator(_devices(request), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "devices/device_list.html", {
        "page": page, "kinds": Kind.choices, "kind": request.GET.get("kind", ""),
        "can_register": bool(scope_for(request.user).roles & MANAGE_ROLES) or request.user.is_superuser,
        "can_dead_letters": may_read_dead_letters(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def device_new(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    regions = _manageable_regions(request)
    if not regions:
        raise Http404
    form = DeviceForm(request.POST or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        region = access_regions(request.user, write=True).get(code=v["region"])
        try:
            device, secret = services.device_register(actor=request.user, region=region, kind=v["kind"],
                                                      code=v["code"], name=v["name"], profile=v["profile"])
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, "; ".join(getattr(exc, "messages", [str(exc) or _("You may not do this here.")])))
        else:
            # The secret is shown this once: only its hash is kept.
            return render(request, "devices/device_secret.html", {"device": device, "secret": secret})
    return render(request, "devices/device_new.html", {"form": form})


@login_required
def device_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    device = access_device(request.user, pk)
    return render(request, "devices/device_detail.html", {
        "device": device,
        "alarms": device.alarms.select_related("case").order_by("-last_at")[:20],
        "recent": device.messages.order_by("-received_at")[:20],
    })


@login_required
def device_register_xlsx(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    return xlsx_response(devices_export(actor=request.user, devices=_devices(request)), "devices.xlsx")


@login_required
def alarm_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    page = Paginator(_alarms(request), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "devices/alarm_list.html", {
        "page": page, "state": request.GET.get("state", "open"), "states": Alarm.State.choices,
        "severity": request.GET.get("severity", ""), "severities": Severity.choices,
    })


@login_required
def alarm_ledger_xlsx(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    return xlsx_response(alarms_export(actor=request.user, alarms=_alarms(request)), "alarms.xlsx")


@login_required
def alarm_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    alarm = access_alarm(request.user, pk)
    return render(request, "devices/alarm_detail.html", {
        "alarm": alarm, "events": alarm.events.select_related("actor"), "form": NoteForm(),
        "can_handle": may_handle(request.user, alarm),
    })


@login_required
@require_POST
def alarm_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    require_staff_scope(request.user)
    alarm = access_alarm(request.user, pk)
    service = {"acknowledge": services.alarm_acknowledge, "clear": services.alarm_clear}.get(action)
    if service is None:
        raise Http404
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The note is too long."))
        return redirect("alarm-detail", pk=alarm.pk)
    try:
        service(actor=request.user, alarm=alarm, note=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("Done."))
    if form_values(NextForm(request.POST)).get("next") == "list":
        return redirect("alarm-list")
    return redirect("alarm-detail", pk=alarm.pk)


@login_required
def dead_letters(request: HttpRequest) -> HttpResponse:
    if not may_read_dead_letters(request.user):
        raise Http404
    qs = DeadLetter.objects.all()
    reason = request.GET.get("reason", "")
    if reason in DeadLetter.Reason.values:
        qs = qs.filter(reason=reason)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "devices/dead_letters.html", {"page": page, "reasons": DeadLetter.Reason.choices,
                                                         "reason": reason})
