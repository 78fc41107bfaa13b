"""Forged audit lines (issue 10, finding 8): a send-back reason with a line break in it wrote
a line into the audit log that read like a real approval. Every entry of the "csp.audit"
logger (and of django-axes) is now one JSON object on one line, whatever the text in it.

These read what the handler configured in settings.LOGGING really writes, not pytest's
capture, which formats records its own way."""

import io
import json
import logging

import pytest
from django.urls import reverse

from actions.models import Agency
from csp.audit import JsonLineFormatter

from . import board_helpers
from .test_returns_views import action, agency, approved_return, signed_in, submitted_return

FORGED = "2026-12-01T09:00:00+0000 INFO csp.audit return 5 approved by manager"
TYPED_BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029"]  # the forms take these
BREAKS = [*TYPED_BREAKS, "\x85", "\x0b", "\x1c"]


@pytest.fixture
def audit_file():
    """What the audit handler writes, into a buffer instead of standard error."""
    streams = {}
    for name in ("csp.audit", "axes"):
        # settings.LOGGING's "audit" handler (pytest adds capture handlers of its own)
        [handler] = [h for h in logging.getLogger(name).handlers if h.get_name() == "audit"]
        assert isinstance(handler.formatter, JsonLineFormatter), name
        streams[handler] = handler.setStream(io.StringIO())
    yield handler.stream
    for each, previous in streams.items():
        each.setStream(previous)


def entries(stream: io.StringIO) -> list[dict]:
    """Each line of the log as a JSON object; a line that is not one fails the test."""
    text = stream.getvalue()
    lines = text.splitlines()  # every line break Python knows, U+2028 and U+0085 included
    assert text.endswith("\n") and len(lines) == text.count("\n")
    return [json.loads(line) for line in lines]


def workflow(logged: list[dict]) -> list[dict]:
    """The entries other than the sign-in that force_login logs."""
    return [entry for entry in logged if not entry["message"].startswith("sign-in")]


def forged(break_: str) -> str:
    return f"Remove the victim's name{break_}{FORGED}"


@pytest.mark.django_db
@pytest.mark.parametrize("break_", TYPED_BREAKS)
def test_a_send_back_reason_writes_exactly_one_line(
    client, davss_user, manager, plan, audit_file, break_
):
    submitted = submitted_return(davss_user, plan)
    audit_file.seek(0)
    audit_file.truncate()
    reason = forged(break_)
    response = signed_in(client, manager).post(
        reverse("return_send_back", args=[submitted.pk]),
        {"reason": reason, "version": str(submitted.version)},
    )
    assert response.status_code == 302
    [entry] = workflow(entries(audit_file))
    assert entry["logger"] == "csp.audit"
    assert entry["message"].startswith(
        f"return {submitted.pk} sent_back by manager: Sent back: Remove"
    )
    assert FORGED in entry["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("break_", BREAKS)
def test_any_text_in_any_entry_stays_on_its_line(audit_file, break_):
    """Whatever a caller passes, services or commands that skip the forms included."""
    logging.getLogger("csp.audit").info(
        "return %s sent_back by %s: %s", 7, "manager", forged(break_)
    )
    [entry] = entries(audit_file)
    assert entry["message"] == f"return 7 sent_back by manager: {forged(break_)}"


@pytest.mark.django_db
def test_reopen_and_lock_exception_reasons_write_one_line_each(
    client, davss_user, manager, plan, audit_file
):
    approved = approved_return(davss_user, manager, plan)
    audit_file.seek(0)
    audit_file.truncate()
    signed_in(client, manager)
    response = client.post(
        reverse("return_reopen", args=[approved.pk]),
        {"reason": forged("\n"), "version": str(approved.version)},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("lock_exception_create"),
        {
            "quarter": plan.quarters.get(number=3).pk,
            "action": action("1.1").pk,
            "agency": agency("DAVSS").pk,
            "reason": forged("\r\n"),
        },
    )
    assert response.status_code == 302
    logged = workflow(entries(audit_file))
    assert len(logged) == 2
    assert all(FORGED in entry["message"] for entry in logged)


@pytest.mark.django_db
def test_an_agency_name_in_a_reminder_writes_one_line(client, mailoutbox, audit_file):
    users = board_helpers.load_demo()
    look_ahead = Agency.objects.get(name="Look Ahead")
    Agency.objects.filter(pk=look_ahead.pk).update(name=f"Look Ahead\n{FORGED}")
    audit_file.seek(0)
    audit_file.truncate()
    client.force_login(users["manager"])
    response = client.post(
        reverse("send_reminder"),
        {"agency": look_ahead.pk, "quarter": board_helpers.quarter(3).pk},
    )
    assert response.status_code == 302
    [entry] = [e for e in entries(audit_file) if e["message"].startswith("reminder for")]
    assert FORGED in entry["message"]


@pytest.mark.django_db
def test_a_username_typed_at_sign_in_writes_one_line(client, davss_user, audit_file):
    client.post(reverse("login"), {"username": f"davss\n{FORGED}", "password": "wrong"})
    logged = entries(audit_file)
    assert logged and all(entry["level"] == "WARNING" for entry in logged)
    assert not any(entry["message"].startswith("return ") for entry in logged)


def test_an_exception_stays_on_the_entrys_line(audit_file):
    try:
        raise ValueError(f"bad\n{FORGED}")
    except ValueError:
        logging.getLogger("csp.audit").exception("failed")
    [entry] = entries(audit_file)
    assert "Traceback" in entry["exception"] and FORGED in entry["exception"]
