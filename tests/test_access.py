"""Who may open what: every named URL × every role × GET and POST, in one table.

The table below is the access policy as the auditors will read it. Meta-tests walk the
URLconf so that a new URL missing from the table, a view without an access rule
(``@requires`` or ``@public`` from csp/permissions.py), or a view opened to anonymous
visitors outside the short allow-list fails the build.

Every response the table asks for is also checked for the exact Content-Security-Policy,
and every page read for inline script without this response's nonce and inline style.
A refused request (sent to sign in, 403, 404 or 405) must leave the database as it was.
"""

import datetime
import re
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from lxml import html
from post_office.models import STATUS, Email

from accounts.models import Invitation, Role, User
from actions import services
from actions.models import Action, Agency, Metric, QuarterlyReturn
from crimestats.models import CrimeType, PendingImport, Source, SourceCategory
from crimestats.sources.parsed import Parsed
from deathreviews.models import (
    ProgressUpdate,
    Recommendation,
    Review,
    ReviewAction,
    Theme,
    UpdateEvidence,
)
from people import services as people_services
from priorities.models import Plan, PlanImport, Priority, Quarter
from review import evidence as evidence_files
from review import services as review_services

from .factories import AgencyFactory, UserFactory
from .files import MINIMAL_PDF

# The roles, in the order of each row's statuses.
ROLES = ("anonymous", "davss", "police", "manager", "board", "admin")
PERSONAS = {
    "davss": "davss_user",  # a partner, DAVSS
    "police": "police_user",  # a partner, Kent Police
    "manager": "manager",  # the community safety manager
    "board": "board_member",
    "admin": "admin_user",  # a superuser (role: manager)
}
L = "login"  # sent to sign in: 302 to /accounts/login/?next=<the URL>


def row(get, post, kwargs=None):
    """One URL's statuses for (anonymous, davss, police, manager, board, admin)."""
    return {"get": get, "post": post, "kwargs": kwargs or (lambda world: {})}


def anyone(status):
    return (status,) * 6


def signed_in(status):
    return (L,) + (status,) * 5


# URL name (with an optional " (variant)" for a second object) → statuses. The objects
# (see ``world``) belong to DAVSS, so Kent Police's partner is out of scope (404), and the
# board sees approved returns only. A view that only answers POST gives 405 to GET; a page
# that only reads gives 405 to POST.
ACCESS = {
    # Public: the accessibility statement, the health check, signing in and password reset.
    "health": row(anyone(200), anyone(405)),
    "accessibility": row(anyone(200), anyone(405)),
    # "Stay signed in" in the timeout warning: 204 for anyone signed in, GET only.
    "session_keep_alive": row(signed_in(204), signed_in(405)),
    "login": row(anyone(200), anyone(200)),  # POSTed empty: the form with its errors
    "logout": row(signed_in(405), signed_in(302)),  # sign out is POST only
    "password_change": row(signed_in(200), signed_in(200)),
    "password_change_done": row(signed_in(200), signed_in(405)),
    "password_reset": row(anyone(200), anyone(200)),
    "password_reset_done": row(anyone(200), anyone(405)),
    "password_reset_confirm": row(  # a link that is not valid: the page says so
        anyone(200), anyone(200), lambda world: {"uidb64": "MQ", "token": "not-a-token"}
    ),
    "password_reset_complete": row(anyone(200), anyone(405)),
    # The second factor: each user's own (accounts/views.py). Nobody here has one, so the
    # code page sends them on (302), and there are no recovery codes to show or renew.
    "two_factor": row(signed_in(200), signed_in(405)),
    "two_factor_enrol": row(signed_in(200), signed_in(200)),  # POSTed empty: the form's errors
    "two_factor_verify": row(signed_in(302), signed_in(302)),
    "two_factor_recovery_codes": row(signed_in(302), signed_in(302)),
    # Resetting another user's second factor: the manager's (a superuser's too).
    "two_factor_reset": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.davss_user.pk},
    ),
    # Reading the plan: every role, never a change.
    "home": row(signed_in(200), signed_in(405)),
    "plan": row(signed_in(200), signed_in(405)),
    "priority_detail": row(signed_in(200), signed_in(405), lambda world: {"pk": world.priority.pk}),
    "action_detail": row(signed_in(200), signed_in(405), lambda world: {"pk": world.action.pk}),
    "agency_list": row(signed_in(200), signed_in(405)),
    "agency_detail": row(signed_in(200), signed_in(405), lambda world: {"pk": world.davss.pk}),
    "crime_statistics": row(signed_in(200), signed_in(405)),
    # Returns. DAVSS's draft: DAVSS and the manager fill it in (a draft saved: 302).
    "return_edit": row(
        (L, 200, 404, 200, 403, 200),
        (L, 302, 404, 302, 403, 302),
        lambda world: {
            "quarter_pk": world.q4.pk,
            "action_pk": world.draft.action_id,
            "agency_pk": world.davss.pk,
        },
    ),
    # Submitted: read-only, so the form sends its agency to the return.
    "return_edit (submitted)": row(
        (L, 302, 404, 302, 403, 302),
        (L, 302, 404, 302, 403, 302),
        lambda world: {
            "quarter_pk": world.q4.pk,
            "action_pk": world.submitted.action_id,
            "agency_pk": world.davss.pk,
        },
    ),
    "return_detail": row(
        (L, 200, 404, 200, 200, 200),
        signed_in(405),
        lambda world: {"pk": world.approved.pk},
    ),
    "return_detail (submitted)": row(
        (L, 200, 404, 200, 404, 200),  # the board sees approved returns only
        signed_in(405),
        lambda world: {"pk": world.submitted.pk},
    ),
    # Check your answers: DAVSS's draft 1.4 is complete, so the page shows it; POSTed
    # without the version seen: back to the page (302).
    "return_check": row(
        (L, 200, 404, 200, 403, 200),
        (L, 302, 404, 302, 403, 302),
        lambda world: {"pk": world.draft.pk},
    ),
    "return_recall": row(  # a submitted return: its agency (or the manager) takes it back
        signed_in(405), (L, 302, 404, 302, 403, 302), lambda world: {"pk": world.submitted.pk}
    ),
    "return_approve": row(
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.submitted.pk}
    ),
    "return_send_back": row(  # POSTed without a reason: the page again, the error beside it
        signed_in(405), (L, 403, 403, 200, 403, 200), lambda world: {"pk": world.submitted.pk}
    ),
    "return_reopen": row(
        signed_in(405), (L, 403, 403, 200, 403, 200), lambda world: {"pk": world.approved.pk}
    ),
    # A metric's target and frequency: the manager's; POSTed empty, the form's errors.
    "metric_target": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.action.metrics.order_by("pk").first().pk},
    ),
    # The conversation on a return (review app): its agency and the manager, never the board,
    # not even on an approved return (404, as for another agency's).
    "return_conversation": row(
        (L, 200, 404, 200, 404, 200), signed_in(405), lambda world: {"pk": world.approved.pk}
    ),
    "comment_create": row(  # POSTed empty: the page again, the error beside the comment
        signed_in(405), (L, 200, 404, 200, 403, 200), lambda world: {"pk": world.submitted.pk}
    ),
    "follow_up_create": row(  # POSTed empty: the page again, the errors beside the fields
        signed_in(405), (L, 403, 403, 200, 403, 200), lambda world: {"pk": world.submitted.pk}
    ),
    # Evidence: content of the return, so the board reads an approved return's.
    "evidence_list": row(
        (L, 200, 404, 200, 200, 200), signed_in(405), lambda world: {"pk": world.approved.pk}
    ),
    "evidence_upload": row(  # POSTed empty: the page again, the error beside the file
        signed_in(405), (L, 200, 404, 200, 403, 200), lambda world: {"pk": world.draft.pk}
    ),
    "evidence_download": row(
        (L, 200, 404, 200, 200, 200), signed_in(405), lambda world: {"pk": world.evidence.pk}
    ),
    "evidence_download (draft)": row(
        (L, 200, 404, 200, 404, 200),
        signed_in(405),
        lambda world: {"pk": world.draft_evidence.pk},
    ),
    "evidence_remove": row(  # an approved return's file: refused with a message (302)
        signed_in(405), (L, 302, 404, 302, 403, 302), lambda world: {"pk": world.evidence.pk}
    ),
    "bulk_approve": row(  # POSTed empty: back to the queue with a message (302)
        signed_in(405), (L, 403, 403, 302, 403, 302)
    ),
    "sent_back_list": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 200, 403, 200)),
    # The manager's pages.
    "review_queue": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 200, 403, 200)),
    "quarter_list": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 200, 403, 200)),
    "quarter_set_open": row(
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.q1.pk}
    ),
    "quarter_close": row(  # asks first (GET); POST closes the open quarter
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.q4.pk},
    ),
    "lock_exception_create": row(  # POSTed empty: the form with its errors
        signed_in(405), (L, 403, 403, 200, 403, 200)
    ),
    # Outgoing e-mail: the manager's; retrying the failed approval notice (302).
    "outgoing_mail": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 405, 403, 405)),
    "outgoing_mail_retry": row(
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.failed_email.pk}
    ),
    # Dashboards: the board paper and completeness are for the manager and the board.
    "dashboard": row(signed_in(200), signed_in(405)),
    "completeness": row((L, 403, 403, 200, 200, 200), (L, 403, 403, 405, 405, 405)),
    "send_reminder": row(  # POSTed empty: refused with a message (302)
        signed_in(405), (L, 403, 403, 302, 403, 302)
    ),
    "quarterly_report": row((L, 403, 403, 200, 200, 200), (L, 403, 403, 405, 405, 405)),
    # The committee paper: the manager writes (POSTed empty: the form's errors) and issues
    # (nothing written yet: a message, 302); the board downloads it from quarterly_report.
    "board_paper": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 200, 403, 200)),
    "board_paper_issue": row(signed_in(405), (L, 403, 403, 302, 403, 302)),
    # Death reviews across reviews (deathreviews/board_views.py): the board's page and the
    # analysis are the manager's and the board's (a partner reads their agency's own
    # recommendations elsewhere: 403 here); the Commissioner's download is the manager's.
    "death_review_board": row((L, 403, 403, 200, 200, 200), signed_in(405)),
    "death_review_analysis": row((L, 403, 403, 200, 200, 200), signed_in(405)),
    "death_review_download": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 405, 403, 405)),
    # Crime statistics: everyone reads; the manager enters and imports.
    "crime_type_detail": row(
        signed_in(200), signed_in(405), lambda world: {"pk": world.crime_type.pk}
    ),
    "crime_figures": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 200, 403, 200)),
    "crime_figures_edit": row(  # POSTed empty: the form with its errors
        (L, 403, 403, 200, 403, 200), (L, 403, 403, 200, 403, 200), lambda world: {"year": 2021}
    ),
    "crime_publish_year": row(  # publish or withdraw a year's figures (302 with a message)
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"year": 2021}
    ),
    "crime_import": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 200, 403, 200)),
    "crime_import_preview": row(  # no upload waiting: back to the upload page (302)
        (L, 403, 403, 302, 403, 302),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"token": "no-such-upload"},
    ),
    "crime_league": row(signed_in(200), signed_in(405)),
    "crime_positions": row(signed_in(200), signed_in(405)),
    "crime_neighbourhoods": row(signed_in(200), signed_in(405)),
    # The public sources' imports: the manager's. An upload waiting for confirmation is
    # its uploader's alone, so another manager (admin) gets 404.
    "crime_sources": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 405, 403, 405)),
    "crime_source_upload": row(  # POSTed empty: the page with the form's errors
        (L, 403, 403, 405, 403, 405),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"source": "home-office"},
    ),
    "crime_source_pending": row(
        (L, 403, 403, 200, 403, 404),
        (L, 403, 403, 405, 403, 405),
        lambda world: {"pk": world.pending_import.pk},
    ),
    "crime_source_confirm": row(
        (L, 403, 403, 405, 403, 405),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.pending_import.pk},
    ),
    "crime_source_discard": row(
        (L, 403, 403, 405, 403, 405),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.pending_import.pk},
    ),
    # People: the manager's. DAVSS's partner is the user changed; "invited" has an
    # invitation waiting; "spare" is an agency with nothing on it, merged into DAVSS.
    "user_list": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 405, 403, 405)),
    "user_invite": row(  # POSTed empty: the form with its errors
        (L, 403, 403, 200, 403, 200), (L, 403, 403, 200, 403, 200)
    ),
    "user_detail": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 405, 403, 405),
        lambda world: {"pk": world.davss_user.pk},
    ),
    "user_edit": row(  # POSTed empty: the form with its errors
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.davss_user.pk},
    ),
    "user_deactivate": row(
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.davss_user.pk}
    ),
    "user_reactivate": row(  # already active: refused with a message (302)
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.davss_user.pk}
    ),
    "invitation_resend": row(
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.invited.pk}
    ),
    "invitation_cancel": row(
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.invited.pk}
    ),
    # The link in an invitation e-mail: whoever holds it. GET moves the token into the
    # session (302); POSTed empty: the form's errors.
    "invitation_accept": row(
        anyone(302), anyone(200), lambda world: {"token": world.invitation_token}
    ),
    "agency_create": row(  # POSTed empty: the form with its errors
        (L, 403, 403, 200, 403, 200), (L, 403, 403, 200, 403, 200)
    ),
    "agency_edit": row(  # POSTed empty: the form with its errors
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.davss.pk},
    ),
    "agency_deactivate": row(
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.davss.pk}
    ),
    "agency_reactivate": row(  # already active: refused with a message (302)
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.davss.pk}
    ),
    "agency_merge": row(  # POSTed empty: the form with its errors
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.davss.pk},
    ),
    "agency_merge_confirm": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.davss.pk, "merged_pk": world.spare.pk},
    ),
    # Importing a plan from a spreadsheet: the manager's, into a draft (2023/24). A waiting
    # import is its uploader's alone, so another manager (admin) gets 404; confirming the
    # (empty) waiting import changes nothing and goes back to the import page (302).
    "plan_import_template": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 405, 403, 405)),
    "plan_import_upload": row(  # POSTed empty: the form with its errors
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.draft_plan.pk},
    ),
    "plan_import_pending": row(
        (L, 403, 403, 200, 403, 404),
        (L, 403, 403, 405, 403, 405),
        lambda world: {"pk": world.plan_import.pk},
    ),
    "plan_import_confirm": row(
        (L, 403, 403, 405, 403, 405),
        (L, 403, 403, 302, 403, 404),
        lambda world: {"pk": world.plan_import.pk},
    ),
    "plan_import_discard": row(
        (L, 403, 403, 405, 403, 405),
        (L, 403, 403, 302, 403, 404),
        lambda world: {"pk": world.plan_import.pk},
    ),
    "plan_spreadsheet": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 405, 403, 405),
        lambda world: {"pk": world.plan.pk},
    ),
    # Publishing: the manager's. 2022/23 is published already (publishing it again is
    # refused with a message, 302), the 2023/24 draft is not (so is unpublishing it).
    "plan_publication": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 405, 403, 405),
        lambda world: {"pk": world.plan.pk},
    ),
    "plan_publish": row(
        (L, 403, 403, 405, 403, 405),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.plan.pk},
    ),
    "plan_unpublish": row(
        (L, 403, 403, 405, 403, 405),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.draft_plan.pk},
    ),
    # The plan as a Word document and as a page to print: whoever reads the plan.
    "plan_document": row(signed_in(200), signed_in(405), lambda world: {"pk": world.plan.pk}),
    "plan_printable": row(signed_in(200), signed_in(405), lambda world: {"pk": world.plan.pk}),
    "plan_document (draft)": row(  # a draft is the manager's until sent for sign-off
        (L, 404, 404, 200, 404, 200), signed_in(405), lambda world: {"pk": world.draft_plan.pk}
    ),
    # The published plan's public page: the only anonymous page with plan data. It shows
    # the plan text and the crime table, never returns, narratives, their figures or people
    # (tests/test_plan_publish.py).
    "public_plan": row(anyone(200), anyone(405)),
    "public_plan_year": row(anyone(200), anyone(405), lambda world: {"year": 2022}),
    "public_plan_year (unpublished)": row(anyone(404), anyone(405), lambda world: {"year": 2023}),
    # Editing the plan: the manager's. The world's plan is active, so its priorities stay
    # as they are (sent back to the plan's edit page, 302) and every change to an action or
    # metric asks for a reason (POSTed empty: the form with its errors).
    "edit_plan": row(
        (L, 403, 403, 200, 403, 200), (L, 403, 403, 405, 403, 405), lambda world: {"year": 2022}
    ),
    "edit_priority_add": row(
        (L, 403, 403, 302, 403, 302), (L, 403, 403, 302, 403, 302), lambda world: {"year": 2022}
    ),
    "edit_priority": row(
        (L, 403, 403, 302, 403, 302),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.priority.pk},
    ),
    "edit_priority_move": row(
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.priority.pk}
    ),
    "edit_priority_remove": row(
        (L, 403, 403, 302, 403, 302),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.priority.pk},
    ),
    "edit_action_add": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.priority.pk},
    ),
    "edit_action": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.action.pk},
    ),
    "edit_action_remove": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.action.pk},
    ),
    "edit_action_withdraw": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.action.pk},
    ),
    "edit_metric_add": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.action.pk},
    ),
    "edit_metric": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.metric.pk},
    ),
    "edit_metric_remove": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.metric.pk},
    ),
    "edit_metric_retire": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.metric.pk},
    ),
    # The yearly cycle (priorities/cycle_views.py): the board reads the plans, the manager
    # runs the cycle. The world's plan is 2022/23, active: sending it for sign-off or making
    # it active is refused with a message (302).
    "plan_list": row((L, 403, 403, 200, 200, 200), (L, 403, 403, 405, 405, 405)),
    "plan_state": row(
        (L, 403, 403, 200, 200, 200),
        (L, 403, 403, 405, 405, 405),
        lambda world: {"pk": world.plan.pk},
    ),
    "plan_start_next": row(  # POSTed empty: the form with its errors
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.plan.pk},
    ),
    "plan_send_for_sign_off": row(
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.plan.pk}
    ),
    "plan_sign_off": row(  # POSTed empty: the form with its errors
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.plan.pk},
    ),
    "plan_make_active": row(
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.plan.pk}
    ),
    "partnership_edit": row(  # POSTed empty: the form with its errors
        (L, 403, 403, 200, 403, 200), (L, 403, 403, 200, 403, 200)
    ),
    "crime_categories": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 405, 403, 405)),
    "crime_category_edit": row(  # POSTed empty: every box cleared, saved (302)
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.source_category.pk},
    ),
    # Death reviews: agencies' progress on actions (deathreviews/progress_urls.py). DAVSS's
    # update for Q4 is submitted, so its form sends DAVSS and the manager to the update
    # (302); Kent Police's partner is out of scope (404); the board writes none (403) and
    # reads no update or its files (404).
    "death_review_update": row(
        (L, 302, 404, 302, 403, 302),
        (L, 302, 404, 302, 403, 302),
        lambda world: {"pk": world.review_action.pk},
    ),
    "death_review_update_detail": row(
        (L, 200, 404, 200, 404, 200),
        signed_in(405),
        lambda world: {"pk": world.progress_update.pk},
    ),
    "death_review_update_evidence": row(
        (L, 200, 404, 200, 404, 200),
        signed_in(405),
        lambda world: {"pk": world.update_evidence.pk},
    ),
    "death_review_updates": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 405, 403, 405)),
    "death_review_update_approve": row(
        signed_in(405),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.progress_update.pk},
    ),
    "death_review_update_send_back": row(  # POSTed without a reason: the page, its error
        signed_in(405),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.progress_update.pk},
    ),
    # Death reviews: the record (deathreviews/manage_urls.py). The world's review has no
    # panel members, so only the manager reads it: DAVSS owns its recommendation, yet reads
    # that through its own pages, and the board sees counts; everyone else is told so.
    "death_review_list": row(signed_in(200), signed_in(405)),
    "death_review_detail": row(
        (L, 404, 404, 200, 404, 200), signed_in(405), lambda world: {"pk": world.death_review.pk}
    ),
    # The manager's forms, POSTed empty: the form with its errors.
    "death_review_add": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 200, 403, 200)),
    "death_review_edit": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.death_review.pk},
    ),
    "death_review_recommendation_add": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.death_review.pk},
    ),
    "death_review_recommendation_edit": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.recommendation.pk},
    ),
    # Its action has an update, so deleting is refused with a message (back to the review).
    "death_review_recommendation_delete": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.recommendation.pk},
    ),
    "death_review_action_add": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.recommendation.pk},
    ),
    "death_review_action_edit": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.review_action.pk},
    ),
    "death_review_action_delete": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 302, 403, 302),
        lambda world: {"pk": world.review_action.pk},
    ),
    "death_review_themes": row((L, 403, 403, 200, 403, 200), (L, 403, 403, 200, 403, 200)),
    "death_review_theme_edit": row(
        (L, 403, 403, 200, 403, 200),
        (L, 403, 403, 200, 403, 200),
        lambda world: {"pk": world.theme.pk},
    ),
    "death_review_theme_retire": row(
        signed_in(405), (L, 403, 403, 302, 403, 302), lambda world: {"pk": world.theme.pk}
    ),
}

# Django's own account views: they carry no ``access_rule`` of ours.
DJANGO_AUTH_VIEWS = {
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
# The only URLs anonymous visitors may open: signing in, password reset, the
# accessibility statement, the health check and the published plan's public page.
PUBLIC = {
    "public_plan",
    "public_plan_year",
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "accessibility",
    "health",
    "invitation_accept",
}
# The board changes nothing, but it signs in and out and keeps its own password.
# Accepting an invitation is the invited person's, whoever else is signed in in that browser.
BOARD_MAY_POST = {
    "login",
    "logout",
    "password_change",
    "password_reset",
    "password_reset_confirm",
    "invitation_accept",
    # The board member's own second factor.
    "two_factor_enrol",
    "two_factor_verify",
    "two_factor_recovery_codes",
}
REFUSED = {L, 403, 404, 405}


# Walking the URLconf ------------------------------------------------------------------------


def url_patterns(resolver=None, namespace=""):
    """(name, view callable, route) for every URL outside the Django admin."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # the admin checks staff status itself; tested below
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield name, pattern.callback, str(pattern.pattern)


def url_name(key: str) -> str:
    return key.split(" (")[0]


def test_every_url_has_a_name():
    unnamed = [route for name, _, route in url_patterns() if name is None]
    assert unnamed == [], "name these URLs so the access table can list them"


def test_every_named_url_is_in_the_access_table():
    named = {name for name, _, _ in url_patterns()}
    listed = {url_name(key) for key in ACCESS}
    assert sorted(named - listed) == [], "add these URLs to ACCESS in tests/test_access.py"
    assert sorted(listed - named) == [], "these URLs in ACCESS no longer exist"


def test_every_view_has_an_access_rule():
    missing = [
        name
        for name, view, _ in url_patterns()
        if not hasattr(view, "access_rule") and name not in DJANGO_AUTH_VIEWS
    ]
    assert missing == [], "decorate these views with @requires(Capability.…) or @public"


def test_only_the_allow_list_is_open_to_anonymous_visitors():
    # LoginRequiredMiddleware lets through only views marked login_not_required (which
    # @public does); everything else sends an anonymous visitor to sign in.
    public = {
        name for name, view, _ in url_patterns() if getattr(view, "login_required", True) is False
    }
    assert public == PUBLIC
    assert {
        name for name, view, _ in url_patterns() if getattr(view, "access_rule", None) == "public"
    } <= PUBLIC


def test_the_table_sends_anonymous_visitors_to_sign_in_outside_the_allow_list():
    for key, statuses in ACCESS.items():
        name = url_name(key)
        if name in PUBLIC:
            continue
        assert statuses["get"][0] == L, key
        assert statuses["post"][0] == L, key


def test_half_signed_in_sessions_reach_only_the_code_or_set_up_page_and_sign_out():
    """The one allow-list for a session that gave a password but no code yet (or must set
    a second factor up): accounts/middleware.py; test_two_factor.py walks every URL with it."""
    from accounts.middleware import ALLOWED

    assert {str(stage): names for stage, names in ALLOWED.items()} == {
        "code": {"two_factor_verify", "logout"},
        "enrol": {"two_factor_enrol", "logout"},
    }


def test_the_board_has_no_unsafe_method_anywhere():
    for key, statuses in ACCESS.items():
        if url_name(key) in BOARD_MAY_POST:
            continue
        board_post = statuses["post"][ROLES.index("board")]
        assert board_post in (403, 405), f"the board may POST to {key}: {board_post}"


# The objects the URLs point at ---------------------------------------------------------------


def death_review_world(partnership, davss, q4, davss_user) -> dict:
    """A death review in progress (not published, no panel members), its recommendation 1
    owned by DAVSS with action 1.1 led by DAVSS, and DAVSS's submitted update for Q4."""
    death_review = Review.objects.create(
        partnership=partnership,
        reference="DARDR 2025/01",
        pseudonym="Adult A",
        notified_on=datetime.date(2025, 1, 6),
        decision=Review.Decision.HOLD,
        decision_on=datetime.date(2025, 1, 27),
        panel_convened_on=datetime.date(2025, 3, 3),
    )
    theme = Theme.objects.create(partnership=partnership, name="Coercive control")
    recommendation = Recommendation.objects.create(
        review=death_review, number=1, text="Train helpline staff to recognise coercive control."
    )
    recommendation.owners.add(davss)
    recommendation.themes.add(theme)
    review_action = ReviewAction.objects.create(
        recommendation=recommendation,
        number=1,
        text="Deliver coercive control training to every helpline worker.",
        lead_agency=davss,
        target_date=datetime.date(2026, 3, 31),
        evidence_needed="Attendance records.",
    )
    progress_update = ProgressUpdate.objects.create(
        action=review_action,
        quarter=q4,
        progress="Two of three sessions held.",
        state=ProgressUpdate.State.SUBMITTED,
        created_by=davss_user,
        submitted_by=davss_user,
        submitted_at=timezone.now(),
    )
    stored = evidence_files.store(SimpleUploadedFile("attendance.pdf", MINIMAL_PDF), "dr")
    update_evidence = UpdateEvidence.objects.create(
        update=progress_update,
        name=stored.name,
        kind=stored.kind,
        size=stored.size,
        sha256=stored.sha256,
        stored_name=stored.stored_name,
        uploaded_by=davss_user,
    )
    return {
        "death_review": death_review,
        "theme": theme,
        "recommendation": recommendation,
        "review_action": review_action,
        "progress_update": progress_update,
        "update_evidence": update_evidence,
    }


@pytest.fixture
def world(davss_user, manager, plan):
    """DAVSS's returns for Q4 (opened): a draft (1.4), a submitted return (1.1) and an
    approved one (1.3)."""
    Quarter.objects.filter(plan=plan, number=4).update(is_open=True)
    q4 = Quarter.objects.get(plan=plan, number=4)
    davss = Agency.objects.get(name="DAVSS")

    def action(ref):
        priority, number = (int(part) for part in ref.split("."))
        return Action.objects.get(priority__plan=plan, priority__number=priority, number=number)

    def save(ref, submit):
        return services.save_return(
            davss_user,
            action(ref),
            davss,
            q4,
            values={},
            narrative="Helpline staffed.",
            rag="green",
            rag_reason="",
            seen_version=None,
            submit=submit,
        )

    to_approve = save("1.3", submit=False)
    evidence = review_services.attach_evidence(
        davss_user, to_approve, SimpleUploadedFile("minutes.pdf", MINIMAL_PDF)
    )
    to_approve = services.submit_return(davss_user, to_approve, seen_version=None)
    approved = services.approve_return(manager, to_approve, seen_version=None)
    failed_email = Email.objects.get()  # the approval's notice, which the mail server refused
    Email.objects.filter(pk=failed_email.pk).update(status=STATUS.failed)
    invited = people_services.invite(
        manager,
        first_name="Ivy",
        last_name="Invited",
        email="ivy@example.org",
        role="partner",
        agencies=[davss],
    )
    invitation, invitation_token = Invitation.issue(invited.user, manager)
    Plan.objects.filter(pk=plan.pk).update(published_at=timezone.now())
    draft_plan = Plan.objects.create(
        partnership=plan.partnership,
        financial_year=2023,
        title="Community Safety Partnership Plan 2023-24",
        assessment_start=datetime.date(2022, 1, 1),
        assessment_end=datetime.date(2022, 12, 31),
    )
    draft = save("1.4", submit=False)
    death = death_review_world(plan.partnership, davss, q4, davss_user)
    return SimpleNamespace(
        **death,
        draft_plan=draft_plan,
        plan_import=PlanImport.objects.create(
            plan=draft_plan,
            file_name="plan.csv",
            sha256="0" * 64,
            uploaded_by=manager,
            payload={
                "file_name": "plan.csv",
                "priorities": [],
                "actions": [],
                "errors": [],
                "error_count": 0,
            },
        ),
        davss_user=davss_user,
        evidence=evidence,
        draft_evidence=review_services.attach_evidence(
            davss_user, draft, SimpleUploadedFile("draft.pdf", MINIMAL_PDF)
        ),
        invited=invited.user,
        invitation_token=invitation_token,
        spare=AgencyFactory(),
        plan=plan,
        q1=Quarter.objects.get(plan=plan, number=1),
        q4=q4,
        davss=davss,
        priority=Priority.objects.get(plan=plan, number=1),
        action=action("1.1"),
        metric=Metric.objects.filter(action__priority__plan=plan).order_by("pk").first(),
        draft=draft,
        submitted=save("1.1", submit=True),
        approved=approved,
        failed_email=failed_email,
        crime_type=CrimeType.objects.get(name="All crime"),
        source_category=SourceCategory.objects.create(
            source=Source.HOME_OFFICE, key="burglary", label="Burglary", code="28"
        ),
        pending_import=PendingImport.objects.create(
            source=Source.HOME_OFFICE,
            file_name="figures.csv",
            sha256="0" * 64,
            uploaded_by=manager,
            payload=Parsed(source=Source.HOME_OFFICE, file_name="figures.csv").to_payload(),
            report={},
        ),
    )


# What a refused request must leave alone --------------------------------------------------

# Sessions and django-axes's records of sign-in attempts change on any request; nothing
# else may change when a request is refused.
UNTRACKED_APPS = {"sessions", "axes", "contenttypes"}
# Counts of attempts (accounts/throttles.py), like axes's: a refused guess is still counted.
UNTRACKED_MODELS = {"accounts.Throttle"}


def database_state() -> dict:
    """Row counts of every model (history models included, so any change to a tracked
    row shows), and the fields of returns, quarters and users a POST could change."""
    state = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label not in UNTRACKED_APPS and model._meta.label not in UNTRACKED_MODELS
    }
    state["returns"] = list(
        QuarterlyReturn.objects.order_by("pk").values_list(
            "pk", "state", "version", "narrative", "values", "reviewer_comment"
        )
    )
    state["quarters"] = list(Quarter.objects.order_by("pk").values_list("pk", "is_open"))
    state["users"] = list(
        User.objects.order_by("pk").values_list("pk", "password", "is_active", "role")
    )
    return state


# Every response: the Content-Security-Policy, and no inline code on pages ----------------------

EXPECTED_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def policy_nonce(response) -> str:
    policy = response["Content-Security-Policy"]
    match = re.search(r"'nonce-([A-Za-z0-9_-]{22,})'", policy)
    assert match, policy
    nonce = match.group(1)
    assert policy == EXPECTED_POLICY.format(nonce=nonce)
    return nonce


def assert_no_inline_code(response, nonce: str) -> None:
    """Scripts come from files, or carry this response's nonce (JSON data blocks aside);
    no style attributes or elements, and no event-handler attributes or javascript: links
    (the policy would block them all)."""
    page = html.fromstring(response.content.decode())
    for script in page.xpath("//script"):
        if script.get("type") == "application/json":
            continue  # a data block ({{ …|json_script }}): never run, so no nonce needed
        assert script.get("src") or script.get("nonce") == nonce, html.tostring(script)[:200]
    assert page.xpath("//style") == []
    styled = page.xpath("//*[@style]")
    assert styled == [], [html.tostring(element)[:200] for element in styled]
    handlers = page.xpath("//@*[starts-with(name(), 'on')]")
    assert handlers == [], handlers
    assert page.xpath("//a[starts-with(normalize-space(@href), 'javascript:')]") == []


# The table, request by request --------------------------------------------------------------

CASES = [
    pytest.param(key, method, role, statuses[method][index], id=f"{key}-{method}-{role}")
    for key, statuses in ACCESS.items()
    for method in ("get", "post")
    for index, role in enumerate(ROLES)
]


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "method", "role", "expected"), CASES)
def test_access(client, request, world, key, method, role, expected):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(PERSONAS[role]))
    url = reverse(url_name(key), kwargs=ACCESS[key]["kwargs"](world))
    before = database_state()

    response = getattr(client, method)(url)

    if expected == L:
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={quote(url)}"
    else:
        assert response.status_code == expected
    if expected in REFUSED:
        assert database_state() == before, "a refused request changed the database"
    nonce = policy_nonce(response)
    if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
        assert_no_inline_code(response, nonce)
    if role != "anonymous" and expected != L:
        assert response["Cache-Control"] == "no-store"


# The Django admin: superusers only ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "status"),
    [
        (None, 302),
        ("davss_user", 302),
        ("police_user", 302),
        ("manager", 302),
        ("board_member", 302),
        ("admin_user", 200),
    ],
)
def test_only_superusers_reach_the_admin(client, request, persona, status):
    if persona:
        client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("admin:index"))
    assert response.status_code == status
    if status == 302:
        assert response["Location"] == "/admin/login/?next=/admin/"


@pytest.mark.django_db
def test_the_admin_refuses_a_non_superuser_even_on_its_pages(client, manager):
    client.force_login(manager)
    response = client.get(reverse("admin:actions_quarterlyreturn_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def admin_form_data(instance, user, **changes) -> dict:
    """What the admin's change form for ``instance`` would post, with ``changes``."""
    request = RequestFactory().get("/")
    request.user = user
    model_admin = admin.site._registry[type(instance)]
    form = model_admin.get_form(request, instance)(instance=instance)
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    return data | changes


@pytest.mark.django_db
def test_a_staff_board_member_with_a_model_permission_cannot_use_the_admin(client, world):
    """Staff status and model permissions are not enough: the admin would let them set a
    return's state and bypass the workflow (review, history, e-mails)."""
    board = UserFactory(username="staff-board", role=Role.BOARD, is_staff=True)
    board.user_permissions.add(
        Permission.objects.get(codename="change_quarterlyreturn"),
        Permission.objects.get(codename="view_quarterlyreturn"),
    )
    client.force_login(board)
    submitted = world.submitted
    for name, args in [
        ("admin:index", []),
        ("admin:actions_quarterlyreturn_changelist", []),
        ("admin:actions_quarterlyreturn_change", [submitted.pk]),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302, name
        assert response["Location"].startswith("/admin/login/"), name

    before = database_state()
    client.post(
        reverse("admin:actions_quarterlyreturn_change", args=[submitted.pk]),
        admin_form_data(submitted, board, state="approved"),
    )
    assert database_state() == before
    submitted.refresh_from_db()
    assert submitted.state == "submitted"


# The plan as far as an object in another agency's scope goes ---------------------------------


@pytest.mark.django_db
def test_the_world_is_what_the_table_assumes(world, police_user):
    """The table's 404s rest on these facts; if the seed changes, this says why."""
    assert world.draft.agency == world.davss
    assert world.approved.state == "approved"
    assert world.submitted.state == "submitted"
    assert not QuarterlyReturn.objects.visible_to(police_user).filter(agency=world.davss).exists()
    assert Plan.objects.current() == world.plan
