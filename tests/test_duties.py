"""Separation of duties (issue 11, item 9): the supervision committee's passwords are set only
from above the village; passwords like the user name are refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from hemei.accounts.services import user_set_password, user_unlock
from hemei.core.scope import SYSTEM
from hemei.regions.access import can_manage_account
from hemei.regions.models import Role
from tests.conftest import PASSWORD, make_user

NEW = "Xin-mima-2026"


@pytest.fixture
def village_people(world):
    return {
        "director": make_user("director", region=world.village, role=Role.DIRECTOR),
        "supervisor": make_user("supervisor", region=world.village, role=Role.SUPERVISION),
    }


def test_the_supervised_cannot_set_the_supervisors_password(world, village_people):
    supervisor = village_people["supervisor"]
    for persona in (village_people["director"], world.user("secretary")):
        assert not can_manage_account(persona, supervisor, password=True)
        with pytest.raises(PermissionDenied):
            user_set_password(user=supervisor, password=NEW, actor=persona)
    supervisor.refresh_from_db()
    assert supervisor.check_password(PASSWORD)
    client = Client()
    client.force_login(village_people["director"])
    response = client.post(reverse("people-password", args=[supervisor.pk]), {"password1": NEW, "password2": NEW})
    assert response.status_code == 403


def test_the_township_and_county_reset_the_supervisors_password(world, village_people):
    supervisor = village_people["supervisor"]
    assert can_manage_account(world.user("township"), supervisor, password=True)
    user_set_password(user=supervisor, password=NEW, actor=world.user("township"))
    supervisor.refresh_from_db()
    assert supervisor.check_password(NEW)


def test_the_village_still_unlocks_the_supervisor_and_resets_its_grid_workers(world, village_people):
    director = village_people["director"]
    user_unlock(user=village_people["supervisor"], actor=director)
    assert user_set_password(user=world.user("grid_a"), password=NEW, actor=director).check_password(NEW)


@pytest.mark.parametrize("password", ["Secretary#2026", "2026-SECRETARY", "Yraterces-1", "Secretory-26"])
def test_passwords_like_the_user_name_are_refused(world, password):
    with pytest.raises(ValidationError):
        user_set_password(user=world.user("secretary"), password=password, actor=SYSTEM)


def test_passwords_with_the_phone_are_refused_and_others_pass(world):
    villager = world.user("villager")  # phone 13800001111
    with pytest.raises(ValidationError):
        user_set_password(user=villager, password="Pw-13800001111", actor=SYSTEM)
    assert user_set_password(user=villager, password=NEW, actor=SYSTEM).check_password(NEW)
