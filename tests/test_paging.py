"""Paging on every long list (issue 15): 50 rows a page, the filters kept in the links, a bad
page number gives a page (never a 500), and figures as people read them."""

from __future__ import annotations

import re

from django.test import RequestFactory
from django.urls import reverse

from hemei.core.audit import audit_record_many
from hemei.core.paging import PAGE_SIZE, page_of, query_without_page
from hemei.core.templatetags.hemei_format import is_public_number, thousands, yuan


def test_page_of_cuts_lists_at_fifty_and_survives_bad_numbers():
    rf = RequestFactory()
    rows = list(range(120))
    assert list(page_of(rf.get("/", {"page": "2"}), rows)) == rows[50:100]
    assert page_of(rf.get("/", {"page": "x"}), rows).number == 1
    assert page_of(rf.get("/", {"page": "99"}), rows).number == 3
    assert query_without_page(rf.get("/", {"page": "2", "action": "update"})) == "action=update"


def test_audit_log_pages_at_fifty_with_filters_kept(world, client):
    audit_record_many(actor=world.user("county"), action="update", object_type="regions.household",
                      county_code="140110", items=[(str(i), f"户{i}", {"address": ["旧", "新"]}) for i in range(120)])
    client.force_login(world.user("county"))
    body = client.get(reverse("audit-log"), {"action": "update"}).content.decode()
    assert body.count("住址 由 旧 改为 新") == PAGE_SIZE
    assert "第 1 / 3 页 · 共 120 条" in body
    assert re.search(r'href="\?action=update&amp;page=2"', body)
    last = client.get(reverse("audit-log"), {"action": "update", "page": "3"}).content.decode()
    assert last.count("住址 由 旧 改为 新") == 20


def test_amounts_and_numbers_read_as_people_write_them():
    assert thousands(1949000) == "1,949,000"
    assert thousands("12345.50") == "12,345.50"
    assert yuan("1949000") == "1,949,000.00 元"
    assert yuan(None) == "" and thousands(None) == ""
    assert is_public_number("140110-2026-000123")
    assert not is_public_number("140110101201-party-202604")
