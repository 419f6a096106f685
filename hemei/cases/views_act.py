"""What the case page offers its handler: the one next action, who could take the case on
(with their posts and current load), and calling the reporter back (an audited reveal)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hemei.accounts.models import User
from hemei.cases import services
from hemei.cases.access import access_case
from hemei.cases.models import Case
from hemei.core.masking import mask_phone
from hemei.regions.access import require_staff_scope
from hemei.regions.models import Post, Region, Role

S = Case.Status


def next_action(case: Case, *, can_write: bool, can_decide_extension: bool = False) -> str:
    """The one action the page puts first, as a large button (the others fold away):

    1. a pending extension the user may decide → "decide_extension";
    2. without write rights nothing ("") — the page only reads;
    3. a new case → "accept"; a taken or started one → "resolve" (starting is optional);
    4. a resolved case waits for the reporter's rating → "wait_rating";
    5. closed, rejected or merged → "" (nothing left to do).
    """
    if can_decide_extension:
        return "decide_extension"
    if not can_write:
        return ""
    if case.status == S.SUBMITTED:
        return "accept"
    if case.status in (S.ACCEPTED, S.IN_PROGRESS):
        return "resolve"
    if case.status == S.RESOLVED:
        return "wait_rating"
    return ""


@dataclass(frozen=True)
class Candidate:
    user: User
    posts: str  # "西邵村第一网格 网格员"
    load: int  # open cases the person is responsible for now

    @property
    def label(self) -> str:
        return _("%(name)s · %(posts)s · %(n)d open") % {"name": self.user, "posts": self.posts, "n": self.load}


def responsible_candidates(region: Region) -> list[Candidate]:
    """Users with a current staff post at the case's region, above it or below it, each with
    their posts there and how many open cases they carry: the nearest posts first (the grid's
    and village's people before the county's, who would otherwise sort first, having no open
    cases), then the lightest load. Three queries."""
    ancestors = [region.path[:i] for i in range(Region.steplen, len(region.path) + 1, Region.steplen)]
    posts = list(Post.objects.current().exclude(role=Role.VILLAGER)
                 .filter(Q(region__path__in=ancestors) | Q(region__path__startswith=region.path),
                         user__is_active=True)
                 .select_related("user", "region").order_by("region__path", "role"))
    by_user: dict[int, list[Post]] = {}
    for post in posts:
        by_user.setdefault(post.user_id, []).append(post)
    load = dict(Case.objects.filter(responsible_id__in=by_user, status__in=services.OPEN_STATUSES)
                .values("responsible_id").annotate(n=Count("pk")).values_list("responsible_id", "n"))
    steps = {uid: min(abs(len(p.region.path) - len(region.path)) for p in ps) for uid, ps in by_user.items()}
    out = [Candidate(user=ps[0].user, posts="、".join(f"{p.region.name}{p.get_role_display()}" for p in ps),
                     load=load.get(uid, 0)) for uid, ps in by_user.items()]
    return sorted(out, key=lambda c: (steps[c.user.pk], c.load, c.user.get_username()))


def reporter_contact(case: Case) -> dict[str, Any]:
    """The reporter's name and masked phone for the page; the full number only after a reveal."""
    reporter = case.reporter
    phone = reporter.phone if reporter is not None else ""
    return {"name": reporter.name if reporter is not None else case.reporter_name,
            "phone_masked": mask_phone(phone), "has_phone": bool(phone)}


@login_required
@require_POST
def case_reporter_phone(request: HttpRequest, number: str) -> HttpResponse:
    """The call-back button: reveals (and audits) the reporter's phone and answers with a tel:
    link (an htmx fragment in place of the button, or a small page without script)."""
    require_staff_scope(request.user)
    case = access_case(request.user, number)
    try:
        phone = services.case_reporter_phone_reveal(actor=request.user, case=case, request=request)
    except ValidationError:
        raise PermissionDenied from None
    template = "cases/_reporter_phone.html" if getattr(request, "htmx", False) else "cases/reporter_phone.html"
    return render(request, template, {"case": case, "phone": phone})


def handler_of(case: Case) -> dict[str, str] | None:
    """Who handles the case, for the reporter: the responsible person's name and their post
    over the case's place ("西邵村 村党支部书记"), or the responsible unit. One query."""
    if case.responsible is None:
        return {"name": case.responsible_unit, "post": ""} if case.responsible_unit else None
    region = case.region
    ancestors = [region.path[:i] for i in range(Region.steplen, len(region.path) + 1, Region.steplen)]
    post = (Post.objects.current().filter(user=case.responsible, region__path__in=ancestors)
            .exclude(role=Role.VILLAGER).select_related("region").order_by("-region__depth").first())
    label = f"{post.region.name} {post.get_role_display()}" if post is not None else ""
    return {"name": str(case.responsible), "post": label, "unit": case.responsible_unit}
