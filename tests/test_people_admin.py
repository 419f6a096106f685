"""People and posts pages: managers put people in posts within their authority and scope."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hemei.accounts.models import User
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.regions import services
from hemei.regions.access import MANAGED_ROLES, assignable_roles, can_manage_posts
from hemei.regions.models import Post, Resident, Role
from tests.conftest import PASSWORD

NEW_PASSWORD = "Xin-mima-2026"
TODAY = dt.date.today


def staff_form(**overrides):
    data = {
        "username": "grid3", "display_name": "赵网格", "phone": "", "role": Role.GRID_WORKER,
        "region": "", "started_on": TODAY().isoformat(), "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def counts():
    return User.objects.count(), Post.objects.count(), AuditEntry.objects.count()


def test_secretary_creates_a_grid_worker_who_sees_only_grid_a(world):
    secretary = client_for(world.user("secretary"))
    response = secretary.post(reverse("people-create"), staff_form(region=world.grid_a.code))
    assert response.status_code == 302
    user = User.objects.get(username="grid3")
    post = user.posts.get()
    assert (post.role, post.region, post.ended_on) == (Role.GRID_WORKER, world.grid_a, None)
    rows = AuditEntry.objects.filter(object_type__in=["accounts.user", "regions.post"], actor_name="secretary")
    assert {r.county_code for r in rows} == {"140110"} and rows.count() == 2
    worker = Client()
    assert worker.post(reverse("login"), {"login": "grid3", "password": NEW_PASSWORD}).status_code == 302
    assert worker.get(reverse("household-detail", args=[world.house_a.pk])).status_code == 200
    assert worker.get(reverse("household-detail", args=[world.house_b.pk])).status_code == 404
    assert worker.get(reverse("household-detail", args=[world.house_c.pk])).status_code == 404


@pytest.mark.parametrize(("role", "region", "status"), [
    (Role.SECRETARY, "village", 403),       # not below the secretary's own authority
    (Role.TOWNSHIP_STAFF, "village", 403),
    (Role.COUNTY_ADMIN, "village", 403),
    (Role.GRID_WORKER, "grid_c", 404),      # another village
    (Role.GRID_WORKER, "township", 404),    # above the village
    (Role.COMMITTEE, "county", 404),
])
def test_secretary_cannot_assign_above_itself_or_outside_the_village(world, role, region, status):
    before = counts()
    secretary = client_for(world.user("secretary"))
    response = secretary.post(reverse("people-create"), staff_form(role=role, region=getattr(world, region).code))
    assert response.status_code == status
    assert counts() == before
    added = secretary.post(reverse("people-post-add", args=[world.user("grid_a").pk]),
                           {"role": role, "region": getattr(world, region).code, "started_on": TODAY().isoformat()})
    assert added.status_code == status
    assert counts() == before


def test_the_service_enforces_the_same_rule(world):
    secretary = world.user("secretary")
    with pytest.raises(PermissionDenied):
        services.post_assign(user=world.user("outsider"), region=world.village, role=Role.SECRETARY, actor=secretary)
    with pytest.raises(PermissionDenied):
        services.post_assign(user=world.user("outsider"), region=world.grid_c, role=Role.GRID_WORKER, actor=secretary)
    assert not Post.objects.filter(user=world.user("outsider")).exists()
    assert Role.SECRETARY not in assignable_roles(secretary, world.village)
    assert Role.GRID_WORKER in assignable_roles(secretary, world.grid_a)
    assert assignable_roles(secretary, world.village2) == frozenset()
    assert Role.COUNTY_ADMIN not in MANAGED_ROLES[Role.COUNTY_ADMIN]


def test_a_role_held_at_another_level_is_a_form_error(world):
    before = counts()
    response = client_for(world.user("secretary")).post(
        reverse("people-create"), staff_form(role=Role.COMMITTEE, region=world.grid_a.code))
    assert response.status_code == 200
    assert response.context["form"].errors["role"]
    assert counts() == before


def test_township_staff_can_assign_a_village_director(world):
    township = client_for(world.user("township"))
    response = township.post(reverse("people-create"), staff_form(username="director2", role=Role.DIRECTOR,
                                                                  region=world.village2.code))
    assert response.status_code == 302
    post = Post.objects.get(user__username="director2")
    assert (post.role, post.region) == (Role.DIRECTOR, world.village2)
    # …but not a colleague at the township.
    response = township.post(reverse("people-create"), staff_form(username="tw2", role=Role.TOWNSHIP_STAFF,
                                                                  region=world.township.code))
    assert response.status_code == 403
    assert not User.objects.filter(username="tw2").exists()


def test_county_admin_assigns_township_staff_but_not_county_admins(world):
    county = client_for(world.user("county"))
    ok = county.post(reverse("people-create"), staff_form(username="tw2", role=Role.TOWNSHIP_STAFF,
                                                         region=world.township2.code))
    assert ok.status_code == 302
    refused = county.post(reverse("people-create"), staff_form(username="ca2", role=Role.COUNTY_ADMIN,
                                                              region=world.county.code))
    assert refused.status_code == 403
    assert not User.objects.filter(username="ca2").exists()


def people_urls(world):
    grid_a = world.user("grid_a")
    post = grid_a.posts.get()
    return [
        ("get", reverse("people-list"), {}),
        ("get", reverse("people-create"), {}),
        ("post", reverse("people-create"), staff_form(region=world.grid_a.code)),
        ("get", reverse("people-user", args=[grid_a.pk]), {}),
        ("post", reverse("people-post-add", args=[grid_a.pk]),
         {"role": Role.COMMITTEE, "region": world.village.code, "started_on": TODAY().isoformat()}),
        ("post", reverse("people-post-end", args=[post.pk]), {"on": TODAY().isoformat()}),
        ("post", reverse("people-unlock", args=[grid_a.pk]), {}),
        ("post", reverse("people-password", args=[grid_a.pk]),
         {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}),
        ("post", reverse("people-villager-account", args=[world.head_b.pk]),
         {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}),
    ]


@pytest.mark.parametrize("persona", ["grid_a", "grid_b", "shop", "villager", "outsider"])
def test_people_pages_refuse_non_managers(world, persona):
    user = world.user(persona)
    assert not can_manage_posts(user)
    client = client_for(user)
    before = counts()
    for method, url, data in people_urls(world):
        response = getattr(client, method)(url, data)
        assert response.status_code in (403, 404), (persona, method, url)
    assert counts() == before
    world.user("grid_a").refresh_from_db()
    assert world.user("grid_a").check_password(PASSWORD)
    assert reverse("people-list") not in client.get("/", follow=True).content.decode()


def test_the_nav_link_shows_for_managers_only(world):
    page = client_for(world.user("secretary")).get(reverse("workbench")).content.decode()
    assert reverse("people-list") in page


@pytest.mark.parametrize("persona", ["township", "county", "outsider"])
def test_accounts_out_of_scope_are_not_found(world, persona):
    secretary = client_for(world.user("secretary"))
    target = world.user(persona)
    before = counts()
    assert secretary.get(reverse("people-user", args=[target.pk])).status_code == 404
    assert secretary.post(reverse("people-unlock", args=[target.pk])).status_code == 404
    assert secretary.post(reverse("people-password", args=[target.pk]),
                          {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 404
    assert secretary.post(reverse("people-post-add", args=[target.pk]),
                          {"role": Role.COMMITTEE, "region": world.village.code,
                           "started_on": TODAY().isoformat()}).status_code == 404
    for post in Post.objects.filter(user=target):
        response = secretary.post(reverse("people-post-end", args=[post.pk]), {"on": TODAY().isoformat()})
        assert response.status_code == 404
    assert counts() == before


def test_the_list_holds_the_posts_in_scope_and_filters(world):
    secretary = client_for(world.user("secretary"))
    page = secretary.get(reverse("people-list"))
    users = {row["post"].user.username for row in page.context["rows"]}
    assert users == {"villager", "grid1", "grid2", "secretary", "shop"}
    by_role = secretary.get(reverse("people-list"), {"role": Role.GRID_WORKER})
    assert {row["post"].user.username for row in by_role.context["rows"]} == {"grid1", "grid2"}
    by_region = secretary.get(reverse("people-list"), {"region": world.grid_b.code})
    assert {row["post"].user.username for row in by_region.context["rows"]} == {"grid2"}
    by_name = secretary.get(reverse("people-list"), {"q": "grid1"})
    assert {row["post"].user.username for row in by_name.context["rows"]} == {"grid1"}
    assert secretary.get(reverse("people-list"), {"region": world.grid_c.code}).status_code == 404
    # A secretary may end a grid worker's post but not their own.
    can_end = {row["post"].user.username: row["can_end"] for row in page.context["rows"]}
    assert can_end["grid1"] and not can_end["secretary"]


def test_villager_account_from_the_household_page(world):
    spouse = Resident.objects.get(name="李秀英")
    secretary = client_for(world.user("secretary"))
    page = secretary.get(reverse("household-detail", args=[world.house_a.pk])).content.decode()
    assert reverse("people-villager-account", args=[spouse.pk]) in page
    # The head already has an account (the `villager` persona): no button.
    assert reverse("people-villager-account", args=[world.head_a.pk]) not in page
    response = secretary.post(reverse("people-villager-account", args=[spouse.pk]),
                              {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(phone="13800002222")
    post = user.posts.get()
    assert (post.role, post.region, post.resident) == (Role.VILLAGER, world.village, spouse)
    assert AuditEntry.objects.filter(object_type="accounts.user", object_id=str(user.pk), county_code="140110").exists()
    # Twice: refused, nothing more.
    before = counts()
    again = secretary.post(reverse("people-villager-account", args=[spouse.pk]),
                           {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert again.status_code == 409
    assert counts() == before
    # She signs in by phone and sees her own household only.
    villager = Client()
    assert villager.post(reverse("login"), {"login": "13800002222", "password": NEW_PASSWORD}).status_code == 302
    home = villager.get(reverse("villager-home"))
    assert home.status_code == 200
    body = home.content.decode()
    assert "李秀英" in body and "王建国" in body and "张志强" not in body
    assert villager.get(reverse("workbench")).status_code == 404
    assert villager.get(reverse("household-detail", args=[world.house_b.pk])).status_code == 404


def test_no_villager_account_without_a_phone(world):
    world.head_b.phone = ""
    world.head_b.save()
    secretary = client_for(world.user("secretary"))
    page = secretary.get(reverse("household-detail", args=[world.house_b.pk])).content.decode()
    assert reverse("people-villager-account", args=[world.head_b.pk]) not in page
    before = counts()
    response = secretary.post(reverse("people-villager-account", args=[world.head_b.pk]),
                              {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 409
    assert counts() == before


def test_a_grid_worker_sees_no_villager_account_button(world):
    page = client_for(world.user("grid_a")).get(reverse("household-detail", args=[world.house_a.pk]))
    assert "people/residents" not in page.content.decode()


def test_ending_a_post_removes_the_access_on_the_next_request(world):
    worker = client_for(world.user("grid_a"))
    assert worker.get(reverse("household-detail", args=[world.house_a.pk])).status_code == 200
    post = world.user("grid_a").posts.get()
    response = client_for(world.user("secretary")).post(reverse("people-post-end", args=[post.pk]),
                                                         {"on": TODAY().isoformat()})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.ended_on == TODAY() - dt.timedelta(days=1)  # the last day held
    assert worker.get(reverse("household-detail", args=[world.house_a.pk])).status_code == 404
    assert Post.objects.filter(pk=post.pk).exists()  # never deleted
    entry = AuditEntry.objects.get(object_type="regions.post", object_id=str(post.pk), action="update")
    assert entry.county_code == "140110" and entry.actor_name == "secretary"
    # Ending it twice is refused.
    again = client_for(world.user("secretary")).post(reverse("people-post-end", args=[post.pk]),
                                                      {"on": TODAY().isoformat()})
    assert again.status_code in (200, 403)


def test_an_ended_post_holder_stays_in_scope_for_a_new_post(world):
    post = world.user("grid_a").posts.get()
    services.post_end(post=post, on=TODAY(), actor=world.user("secretary"))
    secretary = client_for(world.user("secretary"))
    assert secretary.get(reverse("people-user", args=[world.user("grid_a").pk])).status_code == 200
    response = secretary.post(reverse("people-post-add", args=[world.user("grid_a").pk]),
                              {"role": Role.GRID_WORKER, "region": world.grid_b.code,
                               "started_on": TODAY().isoformat()})
    assert response.status_code == 302
    assert world.user("grid_a").posts.current().get().region == world.grid_b


def test_a_director_cannot_end_the_secretarys_post(world):
    director = User.objects.create(username="director")
    services.post_assign(actor=SYSTEM, user=director, region=world.village, role=Role.DIRECTOR)
    post = world.user("secretary").posts.get()
    client = client_for(director)
    assert client.post(reverse("people-post-end", args=[post.pk]), {"on": TODAY().isoformat()}).status_code == 403
    assert client.post(reverse("people-password", args=[world.user("secretary").pk]),
                       {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.post_end(post=post, on=TODAY(), actor=director)
    post.refresh_from_db()
    assert post.ended_on is None


def test_a_duplicate_post_is_a_form_error(world):
    response = client_for(world.user("secretary")).post(
        reverse("people-post-add", args=[world.user("grid_a").pk]),
        {"role": Role.GRID_WORKER, "region": world.grid_a.code, "started_on": TODAY().isoformat()})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert world.user("grid_a").posts.count() == 1


def test_unlock_and_password_reset_are_audited_without_the_password(world):
    grid_a = world.user("grid_a")
    User.objects.filter(pk=grid_a.pk).update(locked_until=timezone.now() + dt.timedelta(minutes=20), failed_logins=3)
    secretary = client_for(world.user("secretary"))
    page = secretary.get(reverse("people-user", args=[grid_a.pk]))
    assert reverse("people-unlock", args=[grid_a.pk]) in page.content.decode()
    assert secretary.post(reverse("people-unlock", args=[grid_a.pk])).status_code == 302
    grid_a.refresh_from_db()
    assert (grid_a.locked_until, grid_a.failed_logins) == (None, 0)
    unlock = AuditEntry.objects.get(object_type="accounts.user", object_id=str(grid_a.pk), note="unlock")
    assert unlock.county_code == "140110" and unlock.actor_name == "secretary"

    response = secretary.post(reverse("people-password", args=[grid_a.pk]),
                              {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    grid_a.refresh_from_db()
    assert grid_a.check_password(NEW_PASSWORD)
    entry = AuditEntry.objects.get(object_type="accounts.user", object_id=str(grid_a.pk), note="password set")
    assert entry.county_code == "140110"
    for row in AuditEntry.objects.all():
        text = json.dumps([row.changes, row.note, row.object_repr], ensure_ascii=False)
        assert NEW_PASSWORD not in text
    assert Client().post(reverse("login"), {"login": "grid1", "password": NEW_PASSWORD}).status_code == 302
    # The county's audit log shows both rows.
    log = client_for(world.user("county")).get(reverse("audit-log"), {"object": "grid1"})
    assert {e.note for e in log.context["page"]} >= {"unlock", "password set"}


def test_a_password_reset_cannot_hand_over_permissions_the_manager_lacks(world):
    """Township staff may assign secretaries, but the secretary may reveal personal data."""
    township = client_for(world.user("township"))
    target = world.user("secretary")
    assert township.get(reverse("people-user", args=[target.pk])).status_code == 200
    response = township.post(reverse("people-password", args=[target.pk]),
                             {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.check_password(PASSWORD)


@pytest.mark.parametrize("weak", ["abc12345", "short1A", "alllowercase", "12345678901"])
def test_weak_passwords_are_refused_with_a_form_error(world, weak):
    secretary = client_for(world.user("secretary"))
    before = counts()
    response = secretary.post(reverse("people-create"), staff_form(region=world.grid_a.code, password1=weak,
                                                                   password2=weak))
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    spouse = Resident.objects.get(name="李秀英")
    response = secretary.post(reverse("people-villager-account", args=[spouse.pk]),
                              {"password1": weak, "password2": weak})
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    response = secretary.post(reverse("people-password", args=[world.user("grid_a").pk]),
                              {"password1": weak, "password2": weak})
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert counts() == before
    world.user("grid_a").refresh_from_db()
    assert world.user("grid_a").check_password(PASSWORD)


def test_mismatched_passwords_are_a_form_error(world):
    before = counts()
    response = client_for(world.user("secretary")).post(
        reverse("people-create"), staff_form(region=world.grid_a.code, password2=NEW_PASSWORD + "x"))
    assert response.status_code == 200 and response.context["form"].errors["password2"]
    assert counts() == before


def test_double_submitting_the_create_form_creates_one_user(world):
    secretary = client_for(world.user("secretary"))
    data = staff_form(region=world.grid_a.code)
    assert secretary.post(reverse("people-create"), data).status_code == 302
    before = counts()
    again = secretary.post(reverse("people-create"), data)
    assert again.status_code == 200
    assert again.context["form"].errors["username"]
    assert counts() == before
    assert User.objects.filter(username__iexact="grid3").count() == 1
    # Case does not make a second account either, nor does an all-digit name.
    for name in ("GRID3", "13912345678"):
        response = secretary.post(reverse("people-create"), {**data, "username": name})
        assert response.status_code == 200 and response.context["form"].errors["username"]
    assert counts() == before


def test_a_staff_phone_must_be_free(world):
    secretary = client_for(world.user("secretary"))
    before = counts()
    response = secretary.post(reverse("people-create"), staff_form(region=world.grid_a.code, phone="13800001111"))
    assert response.status_code == 200 and response.context["form"].errors["phone"]
    assert counts() == before
    response = secretary.post(reverse("people-create"), staff_form(region=world.grid_a.code, phone="138 0000 9999"))
    assert response.status_code == 302
    assert User.objects.get(username="grid3").phone == "13800009999"


def test_pages_render_for_a_manager(world):
    secretary = client_for(world.user("secretary"))
    grid_a = world.user("grid_a")
    for url in (reverse("people-list"), reverse("people-create") + f"?region={world.grid_a.code}",
                reverse("people-user", args=[grid_a.pk]), reverse("people-post-add", args=[grid_a.pk]),
                reverse("people-post-end", args=[grid_a.posts.get().pk]),
                reverse("people-password", args=[grid_a.pk]),
                reverse("people-villager-account", args=[Resident.objects.get(name="李秀英").pk])):
        assert secretary.get(url).status_code == 200, url
