"""GeoReport v2 endpoints. Thin like every view: reads are plain queries on the county's cases
(public fields only), the one write goes through `hemei.cases.services.case_submit`.

Decisions (docs/api.md):
- GET needs no api_key (the spec asks for one only on POST). What a GET shows is public by
  design: no reporter name, household, phone, email or responsible person; the description
  the reporter wrote and the unit in charge are shown, as on the public board.
- POST needs `api_key` = a user's API token (`hemei token USERNAME`): missing → 400, unknown or
  inactive → 403. The target region (`address_id`, a village or grid code, or else the
  user's own single village/grid post or household) must be in the user's scope.
- Phones and e-mail addresses sent with a request are never stored; first/last name becomes the
  case's reporter name (shown to staff only).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authtoken.models import Token

from hemei.accounts.lockout import token_allowed
from hemei.cases import services
from hemei.cases.access import villager_resident
from hemei.cases.models import Case, Category
from hemei.cases.privacy import text_findings
from hemei.core import throttle
from hemei.core.parsing import parse_id
from hemei.core.pii import describe, redact
from hemei.regions.access import scope_for
from hemei.regions.models import Level, Post, Region, Role

from .render import error, respond

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-06-01T00:00:00+08:00"  # bump when the endpoints change
WINDOW = dt.timedelta(days=90)  # the spec's default and largest date range
LIMIT = 1000  # the spec's suggested maximum number of requests in one answer
S = Case.Status
OPEN = frozenset(services.OPEN_STATUSES)
PUBLIC_DECIMALS = 3


class Open311Error(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _throttle(scope: str, ident: str, *, count: bool = True) -> None:
    wait = throttle.hit(scope, ident) if count else throttle.blocked(scope, ident)
    if wait is not None:
        raise Open311Error(429, throttle.wait_message(wait), retry_after=wait)


def _params(request: HttpRequest) -> QueryDict:
    return request.POST if request.method == "POST" else request.GET


def _jurisdiction(request: HttpRequest) -> Region:
    """jurisdiction_id is the county code; required only when this server serves several counties."""
    code = (_params(request).get("jurisdiction_id") or request.GET.get("jurisdiction_id") or "").strip()
    counties = Region.objects.filter(level=Level.COUNTY)
    if code:
        county = counties.filter(code=code).first()
        if county is None:
            raise Open311Error(404, f"jurisdiction_id {code} not found")
        return county
    first_two = list(counties.order_by("path")[:2])
    if len(first_two) != 1:
        raise Open311Error(400, "jurisdiction_id was not provided (the county code)")
    return first_two[0]


def _categories(county: Region) -> QuerySet[Category]:
    return Category.objects.filter(active=True).filter(Q(county__isnull=True) | Q(county=county))


def _limits(category: Category) -> str:
    accept = (_("accept the same working day") if category.accept_hours is None
              else _("accept within %(n)d hours") % {"n": category.accept_hours})
    resolve = (_("resolve within %(n)d working days") % {"n": category.resolve_working_days}
               if category.resolve_working_days is not None
               else _("resolve within %(n)d hours") % {"n": category.resolve_hours or 0})
    return f"{category.name}: {accept}, {resolve}"


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": str(category.pk),
        "service_name": category.name,
        "description": _limits(category),
        "metadata": False,
        "type": "realtime",
        "keywords": category.kind,
        "group": str(Category.Kind(category.kind).label),
    }


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _public(case: Case) -> dict[str, Any]:
    """A case as a GeoReport service request: public fields only (see the module docstring)."""
    is_open = case.status in OPEN
    return {
        "service_request_id": case.number,
        "status": "open" if is_open else "closed",
        "status_notes": str(S(case.status).label),
        "service_name": case.category.name,
        "service_code": str(case.category_id),
        "description": redact(case.description),  # public: ID numbers, phones, cards masked
        "agency_responsible": case.responsible_unit or None,
        "service_notice": None,
        "requested_datetime": _iso(case.created_at),
        "updated_datetime": _iso(case.updated_at),
        "expected_datetime": _iso(case.resolve_by) if is_open else None,
        "address": redact(case.address_string) or case.region.name,
        "address_id": case.region.code,
        "zipcode": None,
        # Rounded to 0.001° (about 100 m): enough to find a broken lamp, not a front door.
        "lat": _coarse(case.lat),
        "long": _coarse(case.long),
        "media_url": case.media_url or None,
    }


def _coarse(value: Decimal | None) -> float | None:
    return float(round(value, PUBLIC_DECIMALS)) if value is not None else None


def _handle(fmt: str, fn: Any, *args: Any) -> HttpResponse:
    try:
        result: HttpResponse = fn(*args)
        return result
    except Open311Error as exc:
        response = error(fmt, exc.status, exc.description)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response


# --- discovery and services -----------------------------------------------------------------


def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    url = request.build_absolute_uri("/open311/v2/").rstrip("/")
    return respond(fmt, "discovery", {
        "changeset": CHANGESET,
        "contact": _("The county's grid governance office"),
        "key_service": _("API keys are issued by the county administrator (hemei token USERNAME)."),
        "endpoints": [{
            "specification": SPEC,
            "url": url,
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    })


def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    def run() -> HttpResponse:
        county = _jurisdiction(request)
        return respond(fmt, "services", [_service(c) for c in _categories(county)])

    return _handle(fmt, run)


def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    def run() -> HttpResponse:
        county = _jurisdiction(request)
        pk = parse_id(code)
        category = _categories(county).filter(pk=pk).first() if pk else None
        if category is None:
            raise Open311Error(404, f"service_code {code} not found")
        # metadata is false for every service: no extra attributes to fill in.
        return respond(fmt, "service_definition", {"service_code": str(category.pk), "attributes": []})

    return _handle(fmt, run)


# --- requests -------------------------------------------------------------------------------


@csrf_exempt  # no session or cookie: a POST is authenticated by its api_key alone
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _handle(fmt, _create, request, fmt)
    if request.method in ("GET", "HEAD"):
        return _handle(fmt, _search, request, fmt)
    return error(fmt, 405, "method not allowed")


def _when(name: str, value: str) -> dt.datetime:
    """W3C date-time (a time zone is required by the spec; a bare date or a time without a zone
    is read as Beijing time, the server's zone). Anything else → 400."""
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is None:
                raise ValueError(value)
            parsed = dt.datetime.combine(day, dt.time())
    except ValueError:
        raise Open311Error(400, f"{name} is not a W3C date-time (e.g. 2026-05-01T00:00:00+08:00): {value}") from None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _search(request: HttpRequest, fmt: str) -> HttpResponse:
    county = _jurisdiction(request)
    p = request.GET
    qs = Case.objects.filter(county=county).select_related("category", "region")
    ids = [i.strip() for i in p.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        # The spec: service_request_id overrides every other parameter.
        qs = qs.filter(number__in=ids[:LIMIT])
    else:
        codes = [c.strip() for c in p.get("service_code", "").split(",") if c.strip()]
        if codes:
            qs = qs.filter(category_id__in=[pk for c in codes if (pk := parse_id(c)) is not None])
        statuses = {s.strip() for s in p.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status must be open, closed or both (comma separated)")
        if statuses == {"open"}:
            qs = qs.filter(status__in=OPEN)
        elif statuses == {"closed"}:
            qs = qs.exclude(status__in=OPEN)
        if p.get("bbox"):
            w, south, e, n = _bbox(p["bbox"])
            qs = qs.filter(long__gte=w, long__lte=e, lat__gte=south, lat__lte=n)
        start = _when("start_date", p["start_date"]) if p.get("start_date") else None
        end = _when("end_date", p["end_date"]) if p.get("end_date") else None
        if start is None and end is None:
            end = timezone.now()
        if start is None:
            assert end is not None
            start = end - WINDOW
        if end is None:
            end = start + WINDOW
        if end < start:
            raise Open311Error(400, "end_date is before start_date")
        if end - start > WINDOW:
            raise Open311Error(400, "start_date and end_date may not span more than 90 days")
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
    cases = qs.order_by("-created_at", "-id")[:LIMIT]
    return respond(fmt, "service_requests", [_public(c) for c in cases])


def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    def run() -> HttpResponse:
        county = _jurisdiction(request)
        case = Case.objects.filter(county=county, number=request_id).select_related("category", "region").first()
        if case is None:
            raise Open311Error(404, f"service_request_id {request_id} not found")
        return respond(fmt, "service_requests", [_public(case)])

    return _handle(fmt, run)


def token_detail(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    """Requests are created at once, so a token (the idempotency key the POST answered with)
    maps straight to its case number; a case number is accepted as its own token."""

    def run() -> HttpResponse:
        county = _jurisdiction(request)
        cases = list(Case.objects.filter(county=county).filter(Q(idempotency_key=token) | Q(number=token))
                     .values_list("number", flat=True)[:2])
        if len(cases) != 1:  # none, or a client-chosen key two accounts happen to share
            raise Open311Error(404, f"token {token} not found")
        return respond(fmt, "service_requests", [{"service_request_id": cases[0], "token": token}])

    return _handle(fmt, run)


# --- POST requests --------------------------------------------------------------------------


def _api_user(p: QueryDict, request: HttpRequest | None = None) -> Any:
    key = (p.get("api_key") or "").strip()
    if not key:
        raise Open311Error(400, "api_key was not provided")
    address = throttle.source(request)
    _throttle("token_fail_ip", address, count=False)  # an address guessing keys is stopped first
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token_allowed(token.user, request):
        throttle.hit("token_fail_ip", address)
        raise Open311Error(403, "api_key is invalid")
    return token.user




def _target(user: Any, county: Region, address_id: str) -> dict[str, Any]:
    """Where the case goes: region (and household/reporter for a villager). A region the user
    may not write to answers like an unknown one (no leak)."""
    scope = scope_for(user)
    resident = villager_resident(user) if scope.household_ids else None
    if address_id:
        region = Region.objects.filter(code=address_id, level__in=(Level.VILLAGE, Level.GRID),
                                       path__startswith=county.path).first()
        if region is not None and scope.covers_path(region.path, write=True):
            return {"region": region}
        if (region is not None and resident is not None
                and resident.household.region.path.startswith(region.path)):
            return {"region": region, "household": resident.household, "reporter": resident}
        raise Open311Error(400, f"address_id {address_id} not found (a village or grid code in your area)")
    if scope.is_staff_scope:
        posts = list(Post.objects.current().exclude(role=Role.VILLAGER)
                     .filter(user=user, region__level__in=(Level.VILLAGE, Level.GRID),
                             region__path__startswith=county.path).select_related("region")[:2])
        if len(posts) == 1 and scope.covers_path(posts[0].region.path, write=True):
            return {"region": posts[0].region}
    elif resident is not None and resident.household.region.path.startswith(county.path):
        return {"region": resident.household.region, "household": resident.household, "reporter": resident}
    raise Open311Error(400, "address_id was not provided (the code of the village or grid)")


def _reporter_name(p: QueryDict) -> str:
    first, last = (p.get("first_name") or "").strip(), (p.get("last_name") or "").strip()
    if not (first or last):
        return ""
    # Chinese names are family name first, with no space; others "first last".
    if all(not ch.isascii() for ch in first + last if not ch.isspace()):
        return f"{last}{first}"
    return f"{first} {last}".strip()


def _bbox(raw: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """`bbox=min_long,min_lat,max_long,max_lat` (WGS 84 degrees, as OGC and most Open311
    servers write a bounding box); anything else is a 400."""
    try:
        w, s, e, n = (Decimal(x.strip()) for x in raw.split(","))
        if not all(v.is_finite() for v in (w, s, e, n)):
            raise ValueError(raw)
    except (ArithmeticError, ValueError):  # not four numbers
        raise Open311Error(400, "bbox is min_long,min_lat,max_long,max_lat in degrees") from None
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise Open311Error(400, "bbox is min_long,min_lat,max_long,max_lat in degrees, west ≤ east, south ≤ north")
    return w, s, e, n


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    p = request.POST
    _throttle("open311_post_ip", throttle.source(request))
    user = _api_user(p, request)
    _throttle("case_create", f"u:{user.pk}")
    county = _jurisdiction(request)
    code = (p.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code was not provided")
    pk = parse_id(code)
    category = _categories(county).filter(pk=pk).first() if pk else None
    if category is None:
        raise Open311Error(404, f"service_code {code} not found")
    text = (p.get("description") or "").strip()
    if not text:
        raise Open311Error(400, "description was not provided")
    if len(text) > services.TEXT_LIMIT:
        raise Open311Error(400, f"description is longer than {services.TEXT_LIMIT} characters")
    target = _target(user, county, (p.get("address_id") or "").strip())
    # Kept as sent, in the fields GeoReport names (checked by the service: a bad one is a 400).
    location = services.Location(address_string=p.get("address_string") or "", lat=p.get("lat"),
                                 long=p.get("long"), media_url=p.get("media_url") or "")
    title = text.splitlines()[0][:50]
    # A client's Idempotency-Key makes a retry safe; without one a fresh key is the token.
    key = (request.headers.get("Idempotency-Key") or "").strip() or uuid.uuid4().hex
    name = _reporter_name(p)
    try:
        case = services.case_submit(
            actor=user, category=category, title=title, description=text, source=Case.Source.API,
            reporter_name=name if "reporter" not in target else "", idempotency_key=key, location=location,
            **target,
        )
    except ValidationError as exc:
        raise Open311Error(409 if exc.code == "conflict" else 400, "; ".join(exc.messages)) from None
    return respond(fmt, "service_requests", [_answer(case, key, text_findings(text))])


def _answer(case: Case, token: str, findings: list[Any] | None = None) -> dict[str, Any]:
    notice = _("Received as %(n)s; to be accepted by %(a)s and resolved by %(r)s.") % {
        "n": case.number, "a": _iso(case.accept_by), "r": _iso(case.resolve_by)}
    if findings:
        # The reporter is told, as disclosure authors are: GET shows the description masked.
        notice += " " + _("The description contains personal data (%(what)s): it is masked wherever "
                          "the request is public.") % {"what": describe(findings)}
    return {"service_request_id": case.number, "service_notice": notice, "account_id": None, "token": token}
