"""Cases workflow extras (issue 3): idempotent submission, merge, transfer, deadline
extensions decided by the tier above, and photos checked and stripped of EXIF."""

from __future__ import annotations

import io
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from hemei.cases.models import Case, CaseEvent, CasePhoto, Category, DeadlineExtension
from hemei.cases.services import (
    case_accept,
    case_extension_ask,
    case_extension_decide,
    case_merge,
    case_photos_add,
    case_rate,
    case_resolve,
    case_start,
    case_submit,
    case_transfer,
)
from hemei.cases.sweep import sweep
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def cat(name: str = "环境卫生") -> Category:
    return Category.objects.get(county__isnull=True, name=name)


def submit(world: Any, *, key: str = "", title: str = "垃圾没人清", photos: list[Any] | None = None,
           description: str = "村口垃圾堆了一周") -> Case:
    return case_submit(actor=world.user("villager"), region=world.grid_a, category=cat(), title=title,
                       description=description, source=Case.Source.VILLAGER, reporter=world.head_a,
                       idempotency_key=key, photos=photos)


def jpeg_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 42.0, 1.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(data: bytes, name: str = "IMG_0001.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


# --- idempotency ---------------------------------------------------------------------------


def test_same_key_same_payload_returns_the_first_case(world):
    first = submit(world, key="k-123")
    again = submit(world, key="k-123")
    assert again.pk == first.pk and again.replayed and not first.replayed
    assert Case.objects.count() == 1
    assert CaseEvent.objects.filter(kind="submitted").count() == 1


def test_same_key_different_payload_is_a_conflict_and_changes_nothing(world):
    submit(world, key="k-123")
    audits = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        submit(world, key="k-123", title="路灯坏了")
    assert exc.value.code == "conflict"
    assert Case.objects.count() == 1 and AuditEntry.objects.count() == audits


def test_keys_are_per_account_and_blank_means_no_idempotency(world):
    submit(world)
    submit(world)
    assert Case.objects.count() == 2
    submit(world, key="shared")
    other = case_submit(actor=world.user("grid_a"), region=world.grid_a, category=cat(), title="垃圾没人清",
                        description="村口垃圾堆了一周", source=Case.Source.VISIT, household=world.house_a,
                        idempotency_key="shared")
    assert not other.replayed and Case.objects.count() == 4


# --- merge -----------------------------------------------------------------------------------


def test_merge_a_duplicate_into_an_open_case(world):
    main = submit(world)
    dup = submit(world, title="村口垃圾")
    merged = case_merge(actor=world.user("secretary"), case=dup, into=main, note="同一处垃圾")
    assert merged.status == Case.Status.MERGED and merged.merged_into == main and merged.closed_at
    assert main.events.filter(kind="merged", data__duplicate=dup.number).exists()
    assert dup.events.filter(kind="merged", data__into=main.number).exists()
    # Not into itself, not into a merged or finished case, not a case already being worked on.
    third = submit(world, title="又是垃圾")
    with pytest.raises(ValidationError):
        case_merge(actor=world.user("secretary"), case=third, into=third)
    with pytest.raises(ValidationError):
        case_merge(actor=world.user("secretary"), case=third, into=dup)
    case_accept(actor=world.user("secretary"), case=third, unit="村委会")
    case_start(actor=world.user("secretary"), case=third)
    with pytest.raises(ValidationError) as exc:
        case_merge(actor=world.user("secretary"), case=third, into=main)
    assert exc.value.code == "transition"
    assert Case.objects.get(pk=third.pk).status == Case.Status.IN_PROGRESS


# --- transfer --------------------------------------------------------------------------------


def test_transfer_changes_the_unit_but_not_the_deadline(world):
    case = submit(world)
    with pytest.raises(ValidationError):
        case_transfer(actor=world.user("secretary"), case=case, unit="镇环卫站")  # not accepted yet
    case = case_accept(actor=world.user("secretary"), case=case, unit="村委会")
    deadline = case.resolve_by
    case = case_transfer(actor=world.user("secretary"), case=case, unit="镇环卫站", note="需要清运车")
    assert case.responsible_unit == "镇环卫站" and case.resolve_by == deadline
    event = case.events.get(kind="transferred")
    assert event.data["from_unit"] == "村委会" and event.data["to_unit"] == "镇环卫站"
    with pytest.raises(ValidationError):
        case_transfer(actor=world.user("secretary"), case=case, unit="镇环卫站")  # already there


# --- extensions -----------------------------------------------------------------------------


def test_extension_is_granted_by_the_township_and_moves_the_deadline(world):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        case = case_accept(actor=world.user("secretary"), case=submit(world), unit="村委会")
        old = case.resolve_by
        ext = case_extension_ask(actor=world.user("secretary"), case=case, until=at(2026, 3, 31, 17, 30),
                                 reason="需要等镇里的清运车")
        # A second ask waits for the first decision.
        with pytest.raises(ValidationError):
            case_extension_ask(actor=world.user("secretary"), case=case, until=at(2026, 4, 10), reason="再延")
        # The village cannot approve its own extension; the township can.
        for persona in ("secretary", "grid_a"):
            with pytest.raises(ValidationError) as exc:
                case_extension_decide(actor=world.user(persona), extension=ext, grant=True)
            assert exc.value.code == "permission"
        assert Case.objects.get(pk=case.pk).resolve_by == old
        ext = case_extension_decide(actor=world.user("township"), extension=ext, grant=True)
    assert ext.status == DeadlineExtension.Status.GRANTED
    case.refresh_from_db()
    assert case.resolve_by == at(2026, 3, 31, 17, 30)
    assert [k for k in case.events.values_list("kind", flat=True) if k.startswith("extension")] == [
        "extension_asked", "extension_granted"]
    # The old deadline passing no longer escalates; the new one does.
    assert sweep(at(2026, 3, 20, 9)) == []
    assert [e.ref for e in sweep(at(2026, 4, 1, 9))] == [case.number]
    with pytest.raises(ValidationError):
        case_extension_decide(actor=world.user("township"), extension=ext, grant=False, note="晚了")


def test_refused_extension_needs_a_reason_and_keeps_the_deadline(world):
    case = case_accept(actor=world.user("secretary"), case=submit(world), unit="村委会")
    later = case.resolve_by + (case.resolve_by - case.created_at)
    ext = case_extension_ask(actor=world.user("secretary"), case=case, until=later, reason="人手不够")
    with pytest.raises(ValidationError):
        case_extension_decide(actor=world.user("township"), extension=ext, grant=False, note="")
    ext = case_extension_decide(actor=world.user("county"), extension=ext, grant=False, note="按期办结")
    assert ext.status == "refused" and Case.objects.get(pk=case.pk).resolve_by == case.resolve_by


def test_extension_must_be_later_and_only_while_working(world):
    case = submit(world)
    with pytest.raises(ValidationError):
        case_extension_ask(actor=world.user("secretary"), case=case, until=at(2030, 1, 1), reason="x")
    case = case_accept(actor=world.user("secretary"), case=case, unit="村委会")
    with pytest.raises(ValidationError):
        case_extension_ask(actor=world.user("secretary"), case=case, until=case.resolve_by, reason="x")
    assert DeadlineExtension.objects.count() == 0


def test_escalated_case_extension_goes_to_the_county(world):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        case = case_accept(actor=world.user("secretary"), case=submit(world), unit="村委会")
    sweep(at(2026, 3, 20, 9))
    case.refresh_from_db()
    assert case.tier == "township"
    with time_machine.travel(at(2026, 3, 20, 10), tick=False):
        ext = case_extension_ask(actor=world.user("secretary"), case=case, until=at(2026, 4, 30), reason="施工")
        with pytest.raises(ValidationError):
            case_extension_decide(actor=world.user("township"), extension=ext, grant=True)
        case_extension_decide(actor=world.user("county"), extension=ext, grant=True)
    case.refresh_from_db()
    assert case.resolve_by == at(2026, 4, 30) and case.overdue_resolve  # the frozen flag stays


# --- photos ---------------------------------------------------------------------------------


def test_photo_is_reencoded_without_exif(world):
    case = submit(world, photos=[upload(jpeg_with_gps())])
    photo = case.photos.get()
    assert photo.stage == CasePhoto.Stage.REPORTED and (photo.width, photo.height) == (64, 48)
    with photo.image.open("rb") as f:
        stored = Image.open(io.BytesIO(f.read()))
        assert stored.format == "JPEG" and not stored.getexif()
    assert "IMG_0001" not in photo.image.name  # the uploader's file name is not kept
    assert case.events.filter(kind="photo").count() == 1


def test_resolve_with_result_photos_and_rate(world):
    case = case_accept(actor=world.user("secretary"), case=submit(world), unit="村委会")
    png = io.BytesIO()
    Image.new("RGB", (3000, 1000), "white").save(png, format="PNG")
    case = case_resolve(actor=world.user("secretary"), case=case, measures="已清运",
                        photos=[upload(png.getvalue(), "after.png", "image/png")])
    photo = case.photos.get(stage="resolved")
    assert max(photo.width, photo.height) == 2048  # shrunk to the configured long side
    case_rate(actor=world.user("villager"), case=case, rating="satisfied")


@pytest.mark.parametrize("data,name", [
    (b"%PDF-1.4 not a photo", "a.jpg"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.svg"),
    (b"\xff\xd8\xff\xe0 truncated jpeg", "broken.jpg"),
])
def test_non_image_refuses_the_whole_submission(world, data, name):
    with pytest.raises(ValidationError) as exc:
        submit(world, photos=[upload(jpeg_with_gps(), "ok.jpg"), upload(data, name)])
    assert exc.value.code == "not_image" and name in exc.value.messages[0]
    assert Case.objects.count() == 0 and CasePhoto.objects.count() == 0


def test_oversized_and_too_many_photos_are_refused(world, settings):
    settings.HEMEI_PHOTO_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as exc:
        submit(world, photos=[upload(b"\xff" * 2000)])
    assert exc.value.code == "too_large"
    settings.HEMEI_PHOTO_MAX_BYTES = 10 * 2**20
    case = submit(world)
    with pytest.raises(ValidationError) as exc:
        case_photos_add(actor=world.user("villager"), case=case, stage="reported",
                        photos=[upload(jpeg_with_gps()) for _ in range(7)])
    assert exc.value.code == "too_many"
    assert Case.objects.count() == 1 and CasePhoto.objects.count() == 0


def test_decompression_bomb_is_refused(world, settings):
    png = io.BytesIO()
    Image.new("1", (12000, 12000)).save(png, format="PNG")  # tiny file, 144 M pixels
    with pytest.raises(ValidationError) as exc:
        submit(world, photos=[upload(png.getvalue(), "bomb.png", "image/png")])
    assert exc.value.code == "not_image"
    assert Case.objects.count() == 0


# --- pages ------------------------------------------------------------------------------------


def test_villager_reports_in_three_steps_with_a_photo_and_a_double_tap_files_one_case(world, client):
    from django.urls import reverse

    client.force_login(world.user("villager"))
    form = client.get(reverse("my-case-new")).content.decode()
    assert 'name="key"' in form and 'name="photos"' in form and 'name="title"' not in form
    key = form.split('name="key" value="')[1].split('"')[0]
    data = {"category": cat().pk, "description": "村口垃圾堆了一周，没人清。气味很大", "key": key}
    first = client.post(reverse("my-case-new"), {**data, "photos": upload(jpeg_with_gps())})
    second = client.post(reverse("my-case-new"), {**data, "photos": upload(jpeg_with_gps())})
    case = Case.objects.get()
    assert first["Location"] == second["Location"] == reverse("my-case", args=[case.number])
    assert case.title == "村口垃圾堆了一周" and case.photos.count() == 1
    page = client.get(reverse("my-case", args=[case.number])).content.decode()
    photo_url = reverse("my-case-photo", args=[case.number, case.photos.get().pk])
    assert photo_url in page
    response = client.get(photo_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"


def test_photos_follow_case_scope(world, client):
    from django.urls import reverse

    case = submit(world, photos=[upload(jpeg_with_gps())])
    photo = case.photos.get()
    for persona, expected in (("grid_a", 200), ("township", 200), ("grid_b", 404), ("outsider", 404)):
        client.force_login(world.user(persona))
        status = client.get(reverse("case-photo", args=[case.number, photo.pk])).status_code
        assert status == expected, persona
    # Another household's villager account cannot fetch it through the villager URL either.
    other = case_submit(actor=world.user("grid_b"), region=world.grid_b, category=cat(), title="路灯",
                        description="路灯坏了", source=Case.Source.VISIT, household=world.house_b,
                        photos=[upload(jpeg_with_gps())])
    client.force_login(world.user("villager"))
    assert client.get(reverse("my-case-photo", args=[other.number, other.photos.get().pk])).status_code == 404
    assert client.get(reverse("my-case-photo", args=[case.number, other.photos.get().pk])).status_code == 404


def test_staff_pages_transfer_merge_and_extension(world, client):
    from django.urls import reverse

    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        main = case_accept(actor=world.user("secretary"), case=submit(world), unit="村委会")
        dup = submit(world, title="村口垃圾")
        client.force_login(world.user("secretary"))
        url = lambda case, action: reverse("case-action", args=[case.number, action])  # noqa: E731
        client.post(url(main, "transfer"), {"unit": "镇环卫站", "note": "需要车"})
        assert Case.objects.get(pk=main.pk).responsible_unit == "镇环卫站"
        # A number outside the clerk's area reads as not found and changes nothing.
        other = case_submit(actor=SYSTEM, region=world.grid_c, category=cat(), title="东邵村的事",
                            description="x", source=Case.Source.PHONE, household=world.house_c)
        client.force_login(world.user("grid_a"))
        client.post(url(dup, "merge"), {"into": other.number})
        assert Case.objects.get(pk=dup.pk).status == Case.Status.SUBMITTED
        client.post(url(dup, "merge"), {"into": main.number})
        assert Case.objects.get(pk=dup.pk).merged_into_id == main.pk
        client.force_login(world.user("secretary"))
        client.post(url(main, "extend"), {"until": "2026-03-31", "reason": "等车"})
        ext = DeadlineExtension.objects.get()
        assert ext.until == at(2026, 3, 31, 17, 30)
        page = client.get(reverse("case-detail", args=[main.number])).content.decode()
        assert reverse("case-extension-decide", args=[main.number]) not in page  # not the secretary's call
        assert client.post(reverse("case-extension-decide", args=[main.number]), {"grant": "1"}).status_code == 403
        client.force_login(world.user("township"))
        page = client.get(reverse("case-detail", args=[main.number])).content.decode()
        assert reverse("case-extension-decide", args=[main.number]) in page
        client.post(reverse("case-extension-decide", args=[main.number]), {"grant": "1"})
    assert Case.objects.get(pk=main.pk).resolve_by == at(2026, 3, 31, 17, 30)
    client.force_login(world.user("villager"))
    page = client.get(reverse("my-case", args=[main.number])).content.decode()
    assert "镇环卫站" in page and "2026-03-31 17:30" in page


def test_staff_enter_a_phone_case_for_a_household_in_scope_only(world, client):
    from django.urls import reverse

    client.force_login(world.user("grid_a"))
    url = reverse("case-new")
    form = client.get(url, {"household": world.house_a.pk}).content.decode()
    assert "王建国" in form  # the head's name prefilled as the reporter
    key = form.split('name="key" value="')[1].split('"')[0]
    data = {"household": world.house_a.pk, "category": cat().pk, "description": "打电话说：路灯坏了，晚上很黑",
            "source": "phone", "reporter_name": "王建国", "key": key}
    first = client.post(url, data)
    again = client.post(url, data)  # a double click files one case
    case = Case.objects.get()
    assert first["Location"] == again["Location"] == reverse("case-detail", args=[case.number])
    assert (case.source, case.household, case.region, case.created_by) == (
        "phone", world.house_a, world.grid_a, world.user("grid_a"))
    # Another grid's household or region: not found / refused, and nothing is created.
    assert client.get(url, {"household": world.house_b.pk}).status_code == 404
    response = client.post(url, {**data, "household": "", "region": world.grid_b.code, "key": "other"})
    assert response.status_code == 200 and Case.objects.count() == 1
    response = client.post(url, {**data, "source": "api", "key": "other2"})
    assert response.status_code == 200 and Case.objects.count() == 1
