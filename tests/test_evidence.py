"""Evidence attached to a return: real files, checked by their content, stored in the
evidence storage (a temporary folder here: conftest), served only as downloads under the
return's access rule, removable only while the return can be changed, every upload and
removal kept on the return's record."""

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from lxml import html

from actions import services
from actions.models import Action, Agency
from priorities.models import Quarter
from review import services as review_services
from review.models import Evidence

from .files import MINIMAL_PDF, PNG, docx_bytes, xlsx_bytes, zip_bytes


def action(ref: str) -> Action:
    priority, number = (int(part) for part in ref.split("."))
    return Action.objects.get(
        priority__plan__financial_year=2022, priority__number=priority, number=number
    )


@pytest.fixture
def draft(plan, davss_user):
    Quarter.objects.filter(plan=plan, number=4).update(is_open=True)
    return services.save_return(
        davss_user,
        action("1.1"),
        Agency.objects.get(name="DAVSS"),
        Quarter.objects.get(plan=plan, number=4),
        values={},
        narrative="Helpline staffed.",
        rag="green",
        rag_reason="",
        seen_version=None,
        submit=False,
    )


def upload(client, quarterly_return, name, content, description="Steering group minutes"):
    return client.post(
        reverse("evidence_upload", args=[quarterly_return.pk]),
        {"file": SimpleUploadedFile(name, content), "description": description},
    )


def field_error(response) -> str:
    page = html.fromstring(response.content.decode())
    errors = page.xpath('//p[@id="id_file_error"]')
    assert errors, "no error beside the file field"
    return " ".join(errors[0].text_content().split())


def typed_description(response) -> str:
    page = html.fromstring(response.content.decode())
    return page.xpath('//input[@id="id_description"]/@value')[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "kind", "stored_as"),
    [
        ("minutes.pdf", MINIMAL_PDF, "pdf", "minutes.pdf"),
        ("photo.png", PNG, "png", "photo.png"),
        ("report.docx", docx_bytes(), "docx", "report.docx"),
        ("figures.xlsx", xlsx_bytes(), "xlsx", "figures.xlsx"),
        # The content decides, not the name: a PNG called .pdf is offered back as a .png.
        ("chart.pdf", PNG, "png", "chart.png"),
        ("../../etc/passwd<script>.pdf", MINIMAL_PDF, "pdf", "passwd_script.pdf"),
    ],
)
def test_a_partner_attaches_each_kind_of_file(
    client, draft, davss_user, name, content, kind, stored_as
):
    client.force_login(davss_user)
    response = upload(client, draft, name, content)
    assert response.status_code == 302
    attached = Evidence.objects.get(quarterly_return=draft)
    assert (attached.kind, attached.name, attached.size) == (kind, stored_as, len(content))
    # Stored under a name of our own, in the evidence storage.
    assert attached.stored_name.startswith(f"returns/{draft.pk}/")
    assert name not in attached.stored_name
    with storages["evidence"].open(attached.stored_name) as stored:
        assert stored.read() == content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.pdf", b"", "The file is empty"),
        ("notes.pdf", b"These are not the minutes, just text.\n", "is not a PDF"),
        ("letter.pdf", b"<html><script>alert(1)</script></html>", "is not a PDF"),
        ("archive.docx", zip_bytes(), "not a Word document (.docx) or Excel spreadsheet"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "is not a PDF"),
    ],
    ids=["empty", "text renamed .pdf", "html renamed .pdf", "zip renamed .docx", "old Word"],
)
def test_a_file_of_another_type_or_empty_is_refused_beside_the_field(
    client, draft, davss_user, name, content, message
):
    client.force_login(davss_user)
    response = upload(client, draft, name, content)
    assert response.status_code == 200
    assert message in field_error(response)
    assert typed_description(response) == "Steering group minutes"  # what was typed stays
    assert not Evidence.objects.exists()


@pytest.mark.django_db
def test_a_file_over_the_limit_is_refused(client, draft, davss_user, settings):
    settings.EVIDENCE_MAX_BYTES = 10 * 1024**2
    client.force_login(davss_user)
    big = MINIMAL_PDF + b"%" * (10 * 1024**2)
    response = upload(client, draft, "big.pdf", big)
    assert response.status_code == 200
    assert "A file may be up to 10 MB" in field_error(response)
    assert typed_description(response) == "Steering group minutes"
    assert not Evidence.objects.exists()


@pytest.mark.django_db
def test_the_eleventh_file_is_refused(client, draft, davss_user):
    for number in range(10):
        review_services.attach_evidence(
            davss_user, draft, SimpleUploadedFile(f"page{number}.png", PNG)
        )
    client.force_login(davss_user)
    response = upload(client, draft, "eleven.pdf", MINIMAL_PDF)
    assert response.status_code == 200
    assert "already has 10 files" in field_error(response)
    assert Evidence.objects.filter(quarterly_return=draft).count() == 10


@pytest.mark.django_db
def test_the_download_is_an_attachment_with_nosniff(client, draft, davss_user):
    attached = review_services.attach_evidence(
        davss_user, draft, SimpleUploadedFile("Minutes – March.pdf", MINIMAL_PDF)
    )
    client.force_login(davss_user)
    response = client.get(reverse("evidence_download", args=[attached.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Minutes March.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == MINIMAL_PDF


@pytest.mark.django_db
def test_evidence_is_scoped_like_its_return(
    client, draft, davss_user, police_user, board_member, manager
):
    attached = review_services.attach_evidence(
        davss_user, draft, SimpleUploadedFile("minutes.pdf", MINIMAL_PDF)
    )
    address = reverse("evidence_download", args=[attached.pk])
    for user, status in ((police_user, 404), (board_member, 404), (manager, 200)):
        client.force_login(user)
        assert client.get(address).status_code == status
    # Approved, the return's content (its evidence with it) is the board's to read.
    services.submit_return(davss_user, draft, seen_version=None)
    draft.refresh_from_db()
    services.approve_return(manager, draft, seen_version=None)
    client.force_login(board_member)
    assert client.get(address).status_code == 200
    page = client.get(reverse("return_detail", args=[draft.pk])).content.decode()
    assert "minutes.pdf" in page
    assert "Evidence added" not in page  # the record of uploads is the conversation's


@pytest.mark.django_db
def test_removal_only_while_the_return_can_be_changed(
    client, draft, davss_user, django_capture_on_commit_callbacks
):
    first, second = (
        review_services.attach_evidence(davss_user, draft, SimpleUploadedFile(name, PNG))
        for name in ("one.png", "two.png")
    )
    client.force_login(davss_user)
    with django_capture_on_commit_callbacks(execute=True):  # the bytes go once committed
        response = client.post(reverse("evidence_remove", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.removed_by == davss_user and first.removed_at is not None
    assert not storages["evidence"].exists(first.stored_name)
    assert client.get(reverse("evidence_download", args=[first.pk])).status_code == 404

    services.submit_return(davss_user, draft, seen_version=None)
    response = client.post(reverse("evidence_remove", args=[second.pk]), follow=True)
    assert "only while the return is a draft or sent back" in response.content.decode()
    second.refresh_from_db()
    assert second.removed_at is None
    assert storages["evidence"].exists(second.stored_name)
    # Nor can a file be added once submitted.
    response = upload(client, draft, "late.pdf", MINIMAL_PDF)
    assert response.status_code == 200
    assert "only while the return is a draft or sent back" in field_error(response)

    # Both the upload and the removal are on the return's record.
    page = client.get(reverse("return_detail", args=[draft.pk])).content.decode()
    assert "Evidence added: one.png" in page
    assert "Evidence removed: one.png" in page
    assert "Evidence added: two.png" in page


@pytest.mark.django_db
def test_another_agency_cannot_upload(client, draft, police_user):
    client.force_login(police_user)
    assert upload(client, draft, "minutes.pdf", MINIMAL_PDF).status_code == 404
    assert not Evidence.objects.exists()
