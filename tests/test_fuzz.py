"""Bad input, tried systematically: hypothesis posts arbitrary values to every form each
role can reach, and sends malformed query strings to every filtered page.

Whatever arrives — huge or negative numbers, non-numbers, nothing, 100,000 characters,
NUL bytes, odd Unicode, a random file — the answer is a page or a redirect, never a 500,
and a request that does not succeed changes nothing (no partial save). Every change to a
return raises its version by one and adds one history row, so "history rows == version"
holds for every return after every request.

Each example runs inside a savepoint that is rolled back, so every example starts from
the same returns. Examples are derandomised so CI sees the same inputs every run.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from actions.models import Agency, QuarterlyReturn
from crimestats.models import CrimeType

from . import test_access
from .test_access import PERSONAS, database_state

world = test_access.world  # DAVSS's draft, submitted and approved returns in an open Q4

# django-tables2 warns about sort keys with dots in them, such as "1e+308"; they are the point.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:django_tables2")

FUZZ = hypothesis_settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ODD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "-1",
    "-0",
    "0",
    "1e309",
    "NaN",
    "Infinity",
    "0x1F",
    "١٢٣",  # Arabic-Indic digits
    "１２",  # full-width digits
    "9" * 40,
    "9" * 5000,  # beyond Python's 4,300-digit int limit
    str(2**31),
    str(2**63),
    str(-(2**63) - 1),
    "1,000,000,000",
    "=3",
    "--",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "\u202egnp.exe",  # right-to-left override
    "e\u0301\u0301\u0301",  # stacked combining accents
    "\u200b",  # zero-width space
    "🙂" * 50,
    "\r\n\r\n",
    "x" * 100_000,
]

VALUES = st.one_of(
    st.sampled_from(ODD),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=40),
    st.text(max_size=10).map(lambda text: f"{text}\x00{text}"),
)


def history_matches_versions() -> None:
    """Every change to a return goes through one save that raises its version by one and
    writes one history row; a partial save breaks that."""
    mismatched = [
        (quarterly_return.pk, quarterly_return.version, quarterly_return.history.count())
        for quarterly_return in QuarterlyReturn.objects.all()
        if quarterly_return.history.count() != quarterly_return.version
    ]
    assert mismatched == []


def send(client, method: str, url: str, data: dict):
    """One request inside a rolled-back savepoint: never a 500, nothing half-saved."""
    before = database_state()
    with transaction.atomic():
        response = getattr(client, method)(url, data)
        assert response.status_code < 500, (url, data)
        if method == "post" and response.status_code != 302:
            assert database_state() == before, "a refused form changed the database"
        history_matches_versions()
        transaction.set_rollback(True)
    return response


# The forms each role can reach ----------------------------------------------------------------


def return_form_fields(world) -> list[str]:
    metrics = [f"metric_{metric.pk}" for metric in world.draft.action.metrics.all()]
    return [*metrics, "narrative", "rag", "rag_reason", "version", "submit", "save"]


def return_edit(world) -> str:
    return reverse("return_edit", args=[world.q4.pk, world.draft.action_id, world.davss.pk])


def crime_year_fields(world) -> list[str]:
    ids = CrimeType.objects.values_list("pk", flat=True)
    return ["seen", *(f"count_{pk}" for pk in ids), *(f"position_{pk}" for pk in ids)]


def review_fields(world) -> list[str]:
    return [
        "reference",
        "pseudonym",
        "notified_on",
        "decision",
        "decision_on",
        "decision_reason",
        "panel_convened_on",
        "sent_to_qa_panel_on",
        "qa_outcome",
        "qa_outcome_on",
        "sent_to_commissioner_on",
        "published_on",
        "panel_members",
    ]


# form: (role, URL, field names); a role of None is an anonymous visitor.
FORMS = {
    "return form, partner": ("davss", return_edit, return_form_fields),
    "return form, manager on behalf": ("manager", return_edit, return_form_fields),
    "approve": (
        "manager",
        lambda world: reverse("return_approve", args=[world.submitted.pk]),
        lambda world: ["version"],
    ),
    "send back": (
        "manager",
        lambda world: reverse("return_send_back", args=[world.submitted.pk]),
        lambda world: ["reason", "version"],
    ),
    "reopen": (
        "manager",
        lambda world: reverse("return_reopen", args=[world.approved.pk]),
        lambda world: ["reason", "version"],
    ),
    "lock exception": (
        "manager",
        lambda world: reverse("lock_exception_create"),
        lambda world: ["quarter", "action", "agency", "reason"],
    ),
    "quarter open and close": (
        "manager",
        lambda world: reverse("quarter_set_open", args=[world.q1.pk]),
        lambda world: ["open"],
    ),
    "send reminder": (
        "manager",
        lambda world: reverse("send_reminder"),
        lambda world: ["agency", "quarter"],
    ),
    "crime figures for a year": (
        "manager",
        lambda world: reverse("crime_figures_edit", kwargs={"year": 2021}),
        crime_year_fields,
    ),
    "sign in": (None, lambda world: reverse("login"), lambda world: ["username", "password"]),
    "password change": (
        "davss",
        lambda world: reverse("password_change"),
        lambda world: ["old_password", "new_password1", "new_password2"],
    ),
    "password reset": (None, lambda world: reverse("password_reset"), lambda world: ["email"]),
    "crime category mapping": (
        "manager",
        lambda world: reverse("crime_category_edit", args=[world.source_category.pk]),
        lambda world: ["crime_types"],
    ),
    "invite someone": (
        "manager",
        lambda world: reverse("user_invite"),
        lambda world: ["first_name", "last_name", "email", "job_title", "role", "agencies"],
    ),
    "change a user": (
        "manager",
        lambda world: reverse("user_edit", args=[world.davss_user.pk]),
        lambda world: ["first_name", "last_name", "job_title", "role", "agencies"],
    ),
    "accept an invitation": (
        None,
        lambda world: reverse("invitation_accept", args=[world.invitation_token]),
        lambda world: ["new_password1", "new_password2"],
    ),
    "add an agency": (
        "manager",
        lambda world: reverse("agency_create"),
        lambda world: ["name", "short_name", "kind", "aliases"],
    ),
    "change an agency": (
        "manager",
        lambda world: reverse("agency_edit", args=[world.davss.pk]),
        lambda world: ["name", "short_name", "kind", "aliases"],
    ),
    "merge agencies": (
        "manager",
        lambda world: reverse("agency_merge", args=[world.davss.pk]),
        lambda world: ["merged"],
    ),
    # Editing the plan (the world's plan is active: every change asks for a reason).
    "change an action": (
        "manager",
        lambda world: reverse("edit_action", args=[world.action.pk]),
        lambda world: [
            "priority",
            "description",
            "lead_agencies",
            "agencies",
            "all_partners",
            "accountable_agency",
            "measure",
            "outcome",
            "reason",
        ],
    ),
    "add a metric": (
        "manager",
        lambda world: reverse("edit_metric_add", args=[world.action.pk]),
        lambda world: ["name", "kind", "order", "reason"],
    ),
    "change a metric": (
        "manager",
        lambda world: reverse("edit_metric", args=[world.metric.pk]),
        lambda world: ["name", "kind", "order", "reason"],
    ),
    "withdraw an action": (
        "manager",
        lambda world: reverse("edit_action_withdraw", args=[world.action.pk]),
        lambda world: ["reason"],
    ),
    "crime source confirm": (
        "manager",
        lambda world: reverse("crime_source_confirm", args=[world.pending_import.pk]),
        lambda world: ["seen"],
    ),
    # Death reviews: the record (deathreviews/forms.py).
    "record a death review": ("manager", lambda world: reverse("death_review_add"), review_fields),
    "change a death review": (
        "manager",
        lambda world: reverse("death_review_edit", args=[world.death_review.pk]),
        review_fields,
    ),
    "add a recommendation": (
        "manager",
        lambda world: reverse("death_review_recommendation_add", args=[world.death_review.pk]),
        lambda world: ["number", "text", "scope", "made_on", "owners", "themes"],
    ),
    "change a death review action": (
        "manager",
        lambda world: reverse("death_review_action_edit", args=[world.review_action.pk]),
        lambda world: ["number", "text", "lead_agency", "target_date", "evidence_needed"],
    ),
    "add a theme": (
        "manager",
        lambda world: reverse("death_review_themes"),
        lambda world: ["name"],
    ),
}


# Real ids as well as nonsense, so the forms are also reached with valid choices.
def real_ids(world) -> list[str]:
    return [
        str(world.q1.pk),
        str(world.q4.pk),
        str(world.draft.action_id),
        str(world.davss.pk),
        str(Agency.objects.get(name="Kent Police").pk),
        str(world.draft.version),
        "1",
        "yes",
        "green",
        "red",
        "partner",
        "voluntary",
        str(world.spare.pk),
        "hold",
        "not_hold",
        "accepted",
        "2025-02-03",
        str(world.theme.pk),
        str(world.davss_user.pk),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("form", list(FORMS))
@FUZZ
@given(data=st.data())
def test_no_input_breaks_a_form(client, request, world, form, data):
    role, url, fields = FORMS[form]
    if role:
        client.force_login(request.getfixturevalue(PERSONAS[role]))
    values = st.one_of(VALUES, st.sampled_from(real_ids(world)))
    posted = data.draw(st.dictionaries(st.sampled_from(fields(world)), values, max_size=12))
    response = send(client, "post", url(world), posted)

    narrative = posted.get("narrative", "")
    refused = form.startswith("return form") and response.status_code == 200
    if refused and narrative.strip() and "\x00" not in narrative and "\r" not in narrative:
        # The form comes back with what was typed in it.
        assert escape(narrative) in response.content.decode()


@pytest.mark.django_db
@FUZZ
@given(
    year=st.one_of(VALUES, st.sampled_from(["2021", "2022", "1999"])),
    content=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.sampled_from(
            [
                b'Crime type,Count,Previous count,County position\nAll crime,"7,679","7,830",1\n',
                b"Crime type,Count,Previous count,County position\nAll crime,-5,x,=3\n",
                b"\xef\xbb\xbfCrime type,Count\n",
                b"x" * (64 * 1024 + 1),
            ]
        ),
    ),
    filename=st.sampled_from(["figures.csv", "figures.xlsx", "..\\..\\evil.csv", "é🙂.csv", ""]),
)
def test_no_upload_breaks_the_crime_import(client, manager, year, content, filename):
    client.force_login(manager)
    posted = {"year": year}
    if filename:
        posted["file"] = SimpleUploadedFile(filename, content, content_type="text/csv")
    response = send(client, "post", reverse("crime_import"), posted)
    assert response.status_code in (200, 302)


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["home-office", "police-uk"])
@FUZZ
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.sampled_from([b"PK\x03\x04" + b"\x00" * 40, b"Month,Crime type\n2021-13,x\n"]),
    ),
    filename=st.sampled_from(["data.csv", "data.xlsx", "data.ods", "data.zip", "é🙂.csv"]),
)
def test_no_upload_breaks_a_public_source_import(client, manager, source, content, filename):
    client.force_login(manager)
    upload = SimpleUploadedFile(filename, content)
    response = send(
        client, "post", reverse("crime_source_upload", args=[source]), {"files": upload}
    )
    assert response.status_code in (200, 302)


# Filtered pages: malformed query strings give a page -------------------------------------------

FILTERED = {
    # name: (role, URL, the query parameters it reads)
    "plan": ("davss", lambda world: reverse("plan"), ["priority", "agency", "q", "sort", "page"]),
    "review_queue": (
        "manager",
        lambda world: reverse("review_queue"),
        ["priority", "agency", "quarter", "sort", "page"],
    ),
    "action_detail": (
        "board",
        lambda world: reverse("action_detail", args=[world.action.pk]),
        ["quarter"],
    ),
    "crime_statistics": ("police", lambda world: reverse("crime_statistics"), ["year"]),
    "crime_type_detail": (
        "board",
        lambda world: reverse("crime_type_detail", args=[world.crime_type.pk]),
        ["year"],
    ),
    "dashboard": ("board", lambda world: reverse("dashboard"), ["quarter"]),
    "completeness": ("manager", lambda world: reverse("completeness"), ["quarter"]),
    "quarterly_report": ("board", lambda world: reverse("quarterly_report"), ["quarter"]),
    "crime_figures": ("manager", lambda world: reverse("crime_figures"), ["year"]),
    "crime_league": (
        "davss",
        lambda world: reverse("crime_league"),
        ["crime_type", "basis", "year"],
    ),
    "crime_positions": ("board", lambda world: reverse("crime_positions"), ["basis"]),
    "crime_neighbourhoods": (
        "police",
        lambda world: reverse("crime_neighbourhoods"),
        ["year", "category"],
    ),
}

MALFORMED = [
    "%",
    "%zz",
    "&&&",
    "=",
    "==1",
    "priority=1&priority=2&priority=x",
    "page=-1",
    "page=0",
    "page=99999999999999999999",
    "page=1.5",
    "sort=nonexistent",
    "sort=-",
    "sort=ref,ref,--ref",
    "quarter=5",
    "quarter=%00",
    "year=-2021",
    "year=99999999999999999999",
    "agency[]=1",
    "q=" + "x" * 20_000,
    "q=%F0%9F",  # half an emoji
    "q=%C0%AF",  # overlong UTF-8
]


@pytest.mark.django_db
@pytest.mark.parametrize("page", list(FILTERED))
@pytest.mark.parametrize("query", MALFORMED)
def test_malformed_query_strings_give_a_page(client, request, world, page, query):
    role, url, _ = FILTERED[page]
    client.force_login(request.getfixturevalue(PERSONAS[role]))
    response = client.get(f"{url(world)}?{query}")
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
@pytest.mark.parametrize("page", list(FILTERED))
@FUZZ
@given(data=st.data())
def test_no_query_breaks_a_filtered_page(client, request, world, page, data):
    role, url, parameters = FILTERED[page]
    client.force_login(request.getfixturevalue(PERSONAS[role]))
    query = data.draw(st.dictionaries(st.sampled_from(parameters), VALUES, max_size=5))
    response = send(client, "get", url(world), query)
    assert response.status_code in (200, 302)


@pytest.mark.django_db
@FUZZ
@given(pk=st.one_of(st.integers(min_value=0, max_value=10**25), st.just(2**63)))
def test_no_id_in_the_address_breaks_a_page(world, davss_user, pk):
    client = Client()
    client.force_login(davss_user)
    for name in ("return_detail", "action_detail", "agency_detail", "priority_detail"):
        response = client.get(reverse(name, args=[pk]))
        assert response.status_code in (200, 404)
