"""Text is clean at the door (issue 10, finding 2): a vertical tab pasted from Word, or any
other hidden control character, is refused by every text field of every form with a message
beside the field, keeping what was typed; and text already held with one in it does not
break the board's Word paper or any workbook or CSV."""

import ast
import importlib
import io
import pkgutil
from pathlib import Path

import django_filters
import docx
import openpyxl
import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from lxml import html

from actions import services
from actions.forms import ReasonForm, ReturnForm
from actions.models import Agency, LockException, Metric, QuarterlyReturn
from crimestats.forms import YearFiguresForm
from csp import exports
from csp.text import PrintableCharField, printable, validate_printable
from priorities.models import Plan, Priority

from . import board_helpers
from .test_returns_views import (
    action,
    agency,
    complete_post,
    edit_url,
    error_summary,
    open_q4,
    signed_in,
    submitted_return,
    the_return,
)

ROOT = Path(__file__).resolve().parent.parent
PROJECT_APPS = ("accounts", "actions", "crimestats", "csp", "dashboard", "priorities")

VERTICAL_TAB = "\x0b"
REFUSED = [
    "\x00",
    "\x01",
    "\x08",
    VERTICAL_TAB,
    "\x0c",
    "\x1b",
    "\x1f",
    "\x7f",
    "\x85",
    "\x9f",
    "\ud800",
    "\ufffe",
    "\uffff",
]
ACCEPTED = "Tabs\tand line breaks\r\n are fine, as are “quotes”, £, é, Ω and ✓"


# The rule --------------------------------------------------------------------------------


@pytest.mark.parametrize("char", REFUSED)
def test_every_hidden_control_character_is_refused(char):
    with pytest.raises(forms.ValidationError) as refused:
        validate_printable(f"Helpline staffed{char} all quarter")
    assert refused.value.code == "unprintable"


def test_printable_text_line_breaks_and_tabs_are_accepted():
    validate_printable(ACCEPTED)  # raises nothing
    assert printable(ACCEPTED) == ACCEPTED


def test_the_message_says_what_and_where():
    with pytest.raises(forms.ValidationError) as refused:
        validate_printable("Two new Freedom Programme groups\x0bstarted")
    assert refused.value.messages == [
        "The text has a hidden character (a vertical tab) after “new Freedom Programme groups”, "
        "often pasted from Word. Delete it, or retype that part of the text"
    ]
    with pytest.raises(forms.ValidationError) as refused:
        validate_printable("\x02started")
    assert "(a control character (U+0002)) at the start" in refused.value.messages[0]


def test_text_already_held_is_made_printable_for_files():
    assert printable("Line one\x0bline two\x00\x1b\x7f") == "Line one\nline two"
    # and a formula behind a hidden character is still quoted
    assert exports.safe_cell("\x1b=HYPERLINK(1)") == "'=HYPERLINK(1)"


# Every form, now and later ------------------------------------------------------------------


def import_project_modules() -> None:
    for app in PROJECT_APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" not in info.name:
                importlib.import_module(info.name)


def subclasses(cls) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | subclasses(sub)
    return found


def in_project(cls) -> bool:
    return cls.__module__.split(".")[0] in PROJECT_APPS


def unguarded(fields: dict) -> list[str]:
    return [
        name
        for name, field in fields.items()
        if isinstance(field, forms.CharField)
        and not isinstance(field.widget, forms.PasswordInput)  # never stored, shown or exported
        and validate_printable not in field.validators
    ]


def test_every_text_field_of_every_form_class_refuses_hidden_characters():
    import_project_modules()
    form_classes = {cls for cls in subclasses(forms.BaseForm) if in_project(cls)}
    assert {ReturnForm, ReasonForm, YearFiguresForm} <= form_classes
    missing = {
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in form_classes
        for name in unguarded(cls.base_fields)
    }
    assert not missing, f"text fields without csp.text.validate_printable: {sorted(missing)}"


def test_every_text_filter_refuses_hidden_characters():
    import_project_modules()
    filtersets = {cls for cls in subclasses(django_filters.FilterSet) if in_project(cls)}
    assert filtersets
    missing = {
        f"{cls.__name__}.{name}"
        for cls in filtersets
        for name in unguarded({name: f.field for name, f in cls.base_filters.items()})
    }
    assert not missing


def test_no_form_field_is_made_from_django_charfield_directly():
    """Fields added in a form's __init__ (a metric's, a crime type's) are not in
    base_fields, so the source is read: every text field is a PrintableCharField."""
    offenders = []
    for app in PROJECT_APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path == ROOT / "csp" / "text.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                    if name in {"CharField", "RegexField", "SlugField"} and not (
                        isinstance(node.func, ast.Attribute)
                        and getattr(node.func.value, "id", "") == "models"
                    ):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"use csp.text.PrintableCharField: {offenders}"


@pytest.mark.django_db
def test_dynamic_fields_refuse_hidden_characters(plan):
    text_metric = Metric(pk=10**6, name="What changed", kind=Metric.Kind.TEXT)
    form = ReturnForm(
        {"metric_1000000": f"More{VERTICAL_TAB}staff", "narrative": "Fine"}, metrics=[text_metric]
    )
    assert isinstance(form.fields["metric_1000000"], PrintableCharField)
    assert not form.is_valid()
    assert "hidden character" in form.errors["metric_1000000"][0]


@pytest.mark.django_db
def test_every_text_field_of_the_admin_refuses_hidden_characters(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    missing, seen = [], 0
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        form_classes = [model_admin.get_form(request), model_admin.get_form(request, obj=None)]
        form_classes += [
            inline.get_formset(request).form for inline in model_admin.get_inline_instances(request)
        ]
        for form_class in form_classes:
            seen += 1
            missing += [f"{model.__name__}.{name}" for name in unguarded(form_class.base_fields)]
    assert seen >= 10
    assert not missing, missing


# At the door: the pages ---------------------------------------------------------------------


def hidden_character_errors(response) -> list[tuple[str, str]]:
    return [entry for entry in error_summary(response) if "hidden character" in entry[1]]


@pytest.mark.django_db
@pytest.mark.parametrize("button", ["save", "submit"])
def test_a_vertical_tab_in_the_narrative_is_refused_beside_the_field_and_kept(
    client, davss_user, plan, button
):
    q4 = open_q4(plan)
    narrative = f"Two new Freedom Programme groups{VERTICAL_TAB}started in Paddock Wood."
    typed = complete_post(narrative=narrative, rag="amber", rag_reason=f"No{VERTICAL_TAB}staff")
    if button == "save":
        typed = complete_post(
            narrative=narrative,
            rag="amber",
            rag_reason=f"No{VERTICAL_TAB}staff",
            submit=None,
            save="1",
        )
    response = signed_in(client, davss_user).post(
        edit_url(q4, action("1.1"), agency("DAVSS")), typed
    )
    assert response.status_code == 200
    assert the_return(action("1.1"), agency("DAVSS"), q4) is None
    errors = hidden_character_errors(response)
    assert [target for target, _ in errors] == ["#id_narrative", "#id_rag_reason"]
    assert errors[0][1].startswith(
        "The text has a hidden character (a vertical tab) after “new Freedom Programme groups”"
    )
    page = html.fromstring(response.content.decode())
    beside = page.xpath(
        "//div[contains(@class, 'govuk-form-group--error')][.//textarea[@name='narrative']]"
        "//*[contains(@class, 'govuk-error-message')]"
    )
    assert any("hidden character (a vertical tab)" in " ".join(p.itertext()) for p in beside)
    # What was typed is kept, hidden character and all, for the partner to correct.
    assert narrative in response.content.decode()


@pytest.mark.django_db
def test_a_send_back_reason_with_a_hidden_character_is_refused(client, davss_user, manager, plan):
    submitted = submitted_return(davss_user, plan)
    response = signed_in(client, manager).post(
        reverse("return_send_back", args=[submitted.pk]),
        {"reason": f"Remove{VERTICAL_TAB}the name", "version": str(submitted.version)},
        follow=True,
    )
    assert response.status_code == 200 and response.redirect_chain == []
    submitted.refresh_from_db()
    assert submitted.state == QuarterlyReturn.State.SUBMITTED
    page = html.fromstring(response.content.decode())
    [beside] = page.xpath("//p[@id='id_reason-error']")
    assert "hidden character (a vertical tab) after “Remove”" in " ".join(beside.itertext())
    assert hidden_character_errors(response)  # and in the summary above
    # the reason is kept as typed
    assert f"Remove{VERTICAL_TAB}the name</textarea>" in response.content.decode()


@pytest.mark.django_db
def test_a_lock_exception_reason_with_a_hidden_character_is_refused(client, manager, plan):
    q3 = plan.quarters.get(number=3)
    response = signed_in(client, manager).post(
        reverse("lock_exception_create"),
        {
            "quarter": q3.pk,
            "action": action("1.1").pk,
            "agency": agency("DAVSS").pk,
            "reason": f"Late{VERTICAL_TAB}figures",
        },
    )
    assert response.status_code == 200
    assert hidden_character_errors(response)
    assert not LockException.objects.exists()


@pytest.mark.django_db
def test_an_agency_name_with_a_hidden_character_is_refused_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:actions_agency_add"),
        {
            "name": f"Kent{VERTICAL_TAB}Fire",
            "short_name": "KFRS2",
            "aliases": "[]",
            "kind": Agency.Kind.choices[0][0],
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "hidden character (a vertical tab) after “Kent”" in response.content.decode()
    assert not Agency.objects.filter(short_name="KFRS2").exists()


# On the way out: text already held ------------------------------------------------------------


def opened(response):
    content_type = response["Content-Type"]
    if "wordprocessingml" in content_type:
        return docx.Document(io.BytesIO(response.content))
    if "spreadsheetml" in content_type:
        return openpyxl.load_workbook(io.BytesIO(response.content))
    return response.content.decode("utf-8-sig")


@pytest.mark.django_db
def test_text_held_with_hidden_characters_still_downloads_for_everyone(client):
    """Stored straight into the database, as a return typed before the rule was: the Word
    paper, the report's workbook, the priority workbook and every other download open."""
    users = board_helpers.load_demo()
    planted = board_helpers.plant_unapproved(board_helpers.demo_plan(), "submitted")
    QuarterlyReturn.objects.filter(pk=planted.pk).update(
        narrative=f"Helpline{VERTICAL_TAB}staffed\x01 all quarter\x1b",
        rag_reason=f"Two{VERTICAL_TAB}posts vacant",
    )
    planted.refresh_from_db()
    services.approve_return(users["manager"], planted, seen_version=planted.version)
    Agency.objects.filter(pk=planted.agency_id).update(name=f"DAVSS{VERTICAL_TAB}")
    Priority.objects.filter(pk=planted.action.priority_id).update(
        title=f"Domestic{VERTICAL_TAB}abuse"
    )
    Plan.objects.filter(pk=planted.quarter.plan_id).update(title=f"Plan{VERTICAL_TAB}2022")
    urls = board_helpers_urls(planted)
    report_xlsx = f"{reverse('quarterly_report')}?quarter=3&format=xlsx"
    assert report_xlsx in urls
    for username in ("board", "manager"):
        client.force_login(users[username])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (username, url)
            file = opened(response)
            if isinstance(file, docx.document.Document) and "quarter=3" in url:
                paragraphs = [p.text for p in file.paragraphs]
                assert any("Helpline\nstaffed all quarter" in p for p in paragraphs), paragraphs
            elif isinstance(file, openpyxl.Workbook) and url == report_xlsx:
                cells = [
                    v for ws in file.worksheets for r in ws.iter_rows(values_only=True) for v in r
                ]
                assert "Two\nposts vacant" in cells


def board_helpers_urls(planted) -> list[str]:
    from .test_report import board_urls

    return board_urls(planted) + [f"{reverse('plan')}?_export=xlsx"]
