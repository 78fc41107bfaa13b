"""Measures and targets: the suggested RAG from the figures (actions.targets), a RAG that
differs needing a reason, the quarters before beside each input, the question about a
figure far from them, annual metrics, percentages and money, and the manager's page for a
metric's target."""

from decimal import Decimal

import pytest
from django.urls import reverse

from actions import targets
from actions.models import Metric, QuarterlyReturn
from csp.numbers import format_money, parse_money, parse_percentage
from priorities.models import Quarter

from .test_returns_views import (
    action,
    agency,
    check_and_submit,
    complete_post,
    detail_url,
    document,
    draft_post,
    edit_url,
    error_summary,
    metric_fields,
    open_q4,
    signed_in,
    text,
)

RAG = QuarterlyReturn.RAG


def metric(kind="count", target=None, period="year", direction="higher", tolerance=10, pk=1):
    return Metric(
        pk=pk,
        name="Referrals managed",
        kind=kind,
        target=None if target is None else Decimal(target),
        target_period=period,
        target_direction=direction,
        amber_tolerance=tolerance,
    )


# The arithmetic -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("this_quarter", "rag", "words"),
    [
        # Year's target 200: by Q3, 150. Q1 and Q2 approved 50 and 40.
        (60, RAG.GREEN, "150 of 150 by Q3 (the year's 200, pro rata): 100%, green at 100% or more"),
        (45, RAG.AMBER, "135 of 150 by Q3 (the year's 200, pro rata): 90%, amber from 90% to"),
        (44, RAG.RED, "134 of 150 by Q3 (the year's 200, pro rata): 89.3%, red below 90%"),
    ],
)
def test_a_years_target_adds_up_the_quarters_and_counts_pro_rata(this_quarter, rag, words):
    found = targets.assess(metric(target=200), 3, this_quarter, [50, 40])
    assert found.rag == rag
    assert found.words.startswith(words)


@pytest.mark.parametrize(
    ("value", "rag", "words"),
    [
        (50, RAG.GREEN, "50 of 50 in Q2: 100%, green at 100% or more"),
        (45, RAG.AMBER, "45 of 50 in Q2: 90%, amber from 90% to under 100%"),
        (44, RAG.RED, "44 of 50 in Q2: 88%, red below 90%"),
    ],
)
def test_a_quarters_target_compares_this_quarter_alone(value, rag, words):
    found = targets.assess(metric(target=50, period="quarter"), 2, value, [500, 500])
    assert (found.rag, found.words) == (rag, words)


@pytest.mark.parametrize(
    ("value", "rag", "words"),
    [
        (10, RAG.GREEN, "10 against at most 10 in Q1: 100%, green at 100% or less"),
        (11, RAG.AMBER, "11 against at most 10 in Q1: 110%, amber over 100% up to 110%"),
        (12, RAG.RED, "12 against at most 10 in Q1: 120%, red above 110%"),
    ],
)
def test_lower_is_better_turns_the_bands_round(value, rag, words):
    found = targets.assess(metric(target=10, period="quarter", direction="lower"), 1, value, [])
    assert (found.rag, found.words) == (rag, words)


@pytest.mark.parametrize(("this_quarter", "rag"), [(10, RAG.GREEN), (12, RAG.AMBER), (13, RAG.RED)])
def test_lower_is_better_for_the_year_adds_up_too(this_quarter, rag):
    # At most 40 in the year: 20 by Q2, with 10 in Q1.
    found = targets.assess(metric(target=40, direction="lower"), 2, this_quarter, [10])
    assert found.rag == rag


def test_a_percentage_is_compared_as_it_stands_not_added_up():
    found = targets.assess(metric(kind="percentage", target=80), 3, 72, [90, 95])
    assert found.rag == RAG.AMBER
    assert found.words.startswith("72% against 80% in Q3: 90%, amber")


def test_money_targets_read_in_pounds():
    found = targets.assess(metric(kind="money", target=100000, period="quarter"), 1, 50000, [])
    assert found.words.startswith("£500 of £1,000 in Q1: 50%, red below 90%")


def test_the_worst_metric_wins_and_no_target_leaves_the_rag_to_the_partner():
    green = metric(target=10, period="quarter", pk=1)
    red = metric(target=10, period="quarter", pk=2)
    untargeted = metric(pk=3)
    suggestion = targets.suggest([green, red, untargeted], 1, {"1": 10, "2": 1, "3": 5}, {})
    assert suggestion.rag == RAG.RED
    assert len(suggestion.assessments) == 2
    assert targets.suggest([untargeted], 1, {"3": 5}, {}).rag == ""
    # A target without a figure yet suggests nothing either.
    assert targets.suggest([green], 1, {}, {}).rag == ""


@pytest.mark.parametrize(
    ("value", "before", "asked"),
    [
        (7, [77, 80, 75], True),
        (8, [77, 80, 75], False),
        (780, [77, 80, 75], True),
        (700, [77, 80, 75], False),
        (0, [10], True),
        (5, [], False),
        (5, [0, 0], False),
    ],
)
def test_a_tenth_or_ten_times_the_average_is_asked_about(value, before, asked):
    assert targets.is_outlier(value, before) is asked


def test_the_question_names_the_quarters_before():
    question = targets.outlier_question(metric(), 7, [77, 80, 75])
    assert question == "Is 7 right? The quarters before: 77, 80, 75."


@pytest.mark.parametrize(
    ("typed", "pence"),
    [("£1,250.50", 125050), ("1250", 125000), ("1,250.5", 125050), (" £0.99 ", 99)],
)
def test_money_is_read_in_pounds_and_kept_in_pence(typed, pence):
    assert parse_money(typed, "Spend") == pence


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1,25", "Spend must be an amount in pounds, like £1,250 or £1,250.50"),
        ("-5", "Spend must be £0 or more"),
        ("12.345", "Spend must be an amount in pounds"),
        ("lots", "Spend must be an amount in pounds"),
        ("9" * 5000, "Spend must be £100,000,000 or less"),
    ],
)
def test_money_that_is_not_an_amount_is_refused(typed, message):
    with pytest.raises(ValueError, match=message.replace("£", "£")):
        parse_money(typed, "Spend")


def test_money_is_shown_in_pounds():
    assert format_money(125050) == "£1,250.50"
    assert format_money(125000) == "£1,250"


@pytest.mark.parametrize(("typed", "value"), [("82.5", 82.5), ("82.5%", 82.5), ("100", 100)])
def test_a_percentage_has_one_decimal_place_at_most(typed, value):
    assert parse_percentage(typed, "Share") == value


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("82.55", "no more than one decimal place"),
        ("101", "100% or less"),
        ("-1", "0% or more"),
        ("most", "must be a percentage"),
    ],
)
def test_a_percentage_out_of_range_is_refused(typed, message):
    with pytest.raises(ValueError, match=message):
        parse_percentage(typed, "Share")


# The return form ------------------------------------------------------------------------------


def approve_earlier(plan, ref="1.1", name="Helpline calls", values=(77, 80, 75), narrative=None):
    """DAVSS's approved returns for the first quarters, with ``values`` for one metric."""
    the_action = action(ref)
    key = metric_fields(ref)[name].removeprefix("metric_")
    for number, value in enumerate(values, start=1):
        QuarterlyReturn.objects.create(
            action=the_action,
            agency=agency("DAVSS"),
            quarter=Quarter.objects.get(plan=plan, number=number),
            values={key: value},
            narrative=narrative or f"Q{number} narrative for {ref}.",
            rag="green",
            state=QuarterlyReturn.State.APPROVED,
        )


def set_target(ref, name, **fields):
    Metric.objects.filter(action=action(ref), name=name).update(**fields)


@pytest.mark.django_db
def test_the_form_shows_the_quarters_before_and_last_quarters_narrative(client, davss_user, plan):
    approve_earlier(plan, narrative="Helpline hours extended to Saturdays.")
    page = signed_in(client, davss_user).get(
        edit_url(open_q4(plan), action("1.1"), agency("DAVSS"))
    )
    field = metric_fields("1.1")["Helpline calls"]
    before = document(page).xpath(f"//p[@id='before-{field.removeprefix('metric_')}']")
    assert text(before[0]) == "Approved before: Q1 2022/23 77; Q2 2022/23 80; Q3 2022/23 75"
    [details] = document(page).xpath("//details[contains(@class, 'govuk-details')]")
    assert "Progress reported for Q3 2022/23 (approved)" in text(details)
    assert "Helpline hours extended to Saturdays." in text(details)


@pytest.mark.django_db
def test_another_agencys_returns_are_not_shown_beside_the_boxes(client, police_user, plan):
    approve_earlier(plan)  # DAVSS's; Kent Police's partner fills in Kent Police's (1.6)
    page = signed_in(client, police_user).get(
        edit_url(open_q4(plan), action("1.1"), agency("DAVSS"))
    )
    assert page.status_code == 404


@pytest.mark.django_db
def test_a_value_far_from_the_trend_is_asked_about_confirmed_and_shown_on_review(
    client, davss_user, manager, plan
):
    approve_earlier(plan)
    q4 = open_q4(plan)
    url = edit_url(q4, action("1.1"), agency("DAVSS"))
    field = metric_fields("1.1")["Helpline calls"]
    key = field.removeprefix("metric_")
    client = signed_in(client, davss_user)

    # Saved as a draft: a warning, never a block.
    saved = client.post(url, draft_post(**{field: "7"}))
    assert saved.status_code == 302
    quarterly_return = QuarterlyReturn.objects.get(action=action("1.1"), quarter=q4)
    assert quarterly_return.values[key] == 7 and quarterly_return.confirmed_values == {}
    page = client.get(url)
    assert "Is 7 right? The quarters before: 77, 80, 75." in text(document(page))
    assert document(page).xpath(f"//input[@name='confirm_{key}' and @type='checkbox']")

    # Check your answers asks again while it is unconfirmed.
    checking = client.post(url, complete_post(**{field: "7"}))
    assert "Is 7 right?" in text(document(client.get(checking["Location"])))

    # Confirmed on the form, then submitted through Check your answers.
    response = check_and_submit(client, url, complete_post(**{field: "7", f"confirm_{key}": "on"}))
    assert response.status_code == 302
    quarterly_return.refresh_from_db()
    assert quarterly_return.state == "submitted"
    assert quarterly_return.confirmed_values == {key: 7}

    review = signed_in(client, manager).get(detail_url(quarterly_return))
    [confirmed] = document(review).xpath("//dd[contains(@class, 'app-confirmed-values')]")
    assert "Helpline calls" in text(confirmed)
    assert "(confirmed)" in text(document(review))


@pytest.mark.django_db
def test_a_corrected_value_is_no_longer_confirmed(client, davss_user, plan):
    approve_earlier(plan)
    url = edit_url(open_q4(plan), action("1.1"), agency("DAVSS"))
    field = metric_fields("1.1")["Helpline calls"]
    key = field.removeprefix("metric_")
    client = signed_in(client, davss_user)
    client.post(url, draft_post(**{field: "7", f"confirm_{key}": "on"}))
    quarterly_return = QuarterlyReturn.objects.get(action=action("1.1"), quarter__number=4)
    assert quarterly_return.is_confirmed(key)
    # A value in line with the trend needs no confirming, whatever the box says.
    client.post(url, draft_post(**{field: "78", f"confirm_{key}": "on"}))
    quarterly_return.refresh_from_db()
    assert quarterly_return.confirmed_values == {}
    assert not quarterly_return.is_confirmed(key)


@pytest.mark.django_db
def test_the_suggested_rag_shows_after_save_and_on_check_your_answers(client, davss_user, plan):
    set_target("1.1", "Referrals managed", target=50, target_period="quarter")
    url = edit_url(open_q4(plan), action("1.1"), agency("DAVSS"))
    field = metric_fields("1.1")["Referrals managed"]
    client = signed_in(client, davss_user)
    saved = client.post(url, draft_post(**{field: "46", "rag": "amber", "rag_reason": "Slow"}))
    for page in (client.get(url), client.get(saved["Location"])):
        [suggested] = document(page).xpath("//*[contains(@class, 'app-suggested-rag')]")
        assert "Amber" in text(suggested)
        assert "46 of 50 in Q4: 92%, amber from 90% to under 100%" in text(suggested)
    checking = client.post(
        url, complete_post(**{field: "46", "rag": "amber", "rag_reason": "Slow"})
    )
    check = client.get(checking["Location"])
    assert "46 of 50 in Q4: 92%" in text(document(check))
    assert "RAG differs" not in text(document(check))
    assert QuarterlyReturn.objects.get(quarter__number=4, action=action("1.1")).suggested_rag == (
        "amber"
    )


@pytest.mark.django_db
def test_a_rag_other_than_the_figures_suggest_needs_a_reason(client, davss_user, manager, plan):
    set_target("1.1", "Referrals managed", target=50, target_period="quarter")
    url = edit_url(open_q4(plan), action("1.1"), agency("DAVSS"))
    field = metric_fields("1.1")["Referrals managed"]
    client = signed_in(client, davss_user)

    refused = client.post(url, complete_post(**{field: "20", "rag": "green"}))
    assert refused.status_code == 200
    assert error_summary(refused) == [
        (
            "#id_rag_override_reason",
            "The figures suggest red: enter why the RAG status is another, or choose the "
            "suggested one",
        )
    ]
    assert not QuarterlyReturn.objects.filter(quarter__number=4, action=action("1.1")).exists()

    reason = "Referrals come in late in the quarter; the count catches up next quarter."
    response = check_and_submit(
        client, url, complete_post(**{field: "20", "rag": "green", "rag_override_reason": reason})
    )
    assert response.status_code == 302
    quarterly_return = QuarterlyReturn.objects.get(quarter__number=4, action=action("1.1"))
    assert (quarterly_return.rag, quarterly_return.suggested_rag) == ("green", "red")
    assert quarterly_return.rag_override_reason == reason
    assert quarterly_return.rag_differs

    review = signed_in(client, manager).get(detail_url(quarterly_return))
    [differs] = document(review).xpath("//dd[contains(@class, 'app-rag-differs')]")
    assert text(differs) == reason


@pytest.mark.django_db
def test_choosing_the_suggested_rag_keeps_no_override_reason(client, davss_user, plan):
    set_target("1.1", "Referrals managed", target=50, target_period="quarter")
    url = edit_url(open_q4(plan), action("1.1"), agency("DAVSS"))
    field = metric_fields("1.1")["Referrals managed"]
    post = complete_post(
        **{field: "60", "rag": "green", "rag_override_reason": "Left over from before"}
    )
    signed_in(client, davss_user).post(url, post)
    quarterly_return = QuarterlyReturn.objects.get(quarter__number=4, action=action("1.1"))
    assert quarterly_return.rag_override_reason == ""
    assert not quarterly_return.rag_differs


@pytest.mark.django_db
def test_a_years_target_counts_the_approved_quarters_before(client, davss_user, plan):
    approve_earlier(plan, name="Referrals managed", values=(50, 40, 45))
    set_target("1.1", "Referrals managed", target=200, target_period="year")
    url = edit_url(open_q4(plan), action("1.1"), agency("DAVSS"))
    field = metric_fields("1.1")["Referrals managed"]
    client = signed_in(client, davss_user)
    client.post(url, draft_post(**{field: "50"}))
    page = client.get(url)
    assert "185 of 200 by Q4: 92.5%, amber" in text(document(page))


@pytest.mark.django_db
def test_an_annual_metric_is_asked_in_q4_only(client, davss_user, plan):
    set_target("1.1", "Programmes run", frequency="annual")
    field = metric_fields("1.1")["Programmes run"]
    Quarter.objects.filter(plan=plan, number=3).update(is_open=True)
    q3 = Quarter.objects.get(plan=plan, number=3)
    client = signed_in(client, davss_user)
    in_q3 = client.get(edit_url(q3, action("1.1"), agency("DAVSS")))
    assert not document(in_q3).xpath(f"//input[@name='{field}']")
    # Nor is it required to submit in Q3.
    post = complete_post(**{field: None})
    checking = client.post(edit_url(q3, action("1.1"), agency("DAVSS")), post)
    assert checking.status_code == 302, error_summary(checking)
    in_q4 = client.get(edit_url(open_q4(plan), action("1.1"), agency("DAVSS")))
    assert document(in_q4).xpath(f"//input[@name='{field}']")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "typed", "stored", "error"),
    [
        ("money", "£1,250.50", 125050, None),
        ("money", "1,25", None, "must be an amount in pounds, like £1,250 or £1,250.50"),
        ("percentage", "82.5", 82.5, None),
        ("percentage", "120", None, "must be 100% or less"),
    ],
)
def test_percentage_and_money_on_the_form(client, davss_user, plan, kind, typed, stored, error):
    set_target("1.1", "Programmes run", kind=kind)
    field = metric_fields("1.1")["Programmes run"]
    url = edit_url(open_q4(plan), action("1.1"), agency("DAVSS"))
    response = signed_in(client, davss_user).post(url, draft_post(**{field: typed}))
    saved = QuarterlyReturn.objects.filter(quarter__number=4, action=action("1.1")).first()
    if error:
        assert response.status_code == 200
        [(link, message)] = error_summary(response)
        assert link == f"#id_{field}" and error in message
        assert document(response).xpath(f"//input[@name='{field}']/@value") == [typed]
        assert saved is None
    else:
        assert response.status_code == 302
        assert saved.values[field.removeprefix("metric_")] == stored
        # Shown again as typed, not as pence.
        again = client.get(url)
        shown = document(again).xpath(f"//input[@name='{field}']/@value")[0]
        assert shown == typed.removeprefix("£")
        # In pounds or per cent on the action's page and the return's, never in pence.
        q4 = QuarterlyReturn.objects.get(quarter__number=4, action=action("1.1"))
        for url in (
            reverse("action_detail", args=[action("1.1").pk]) + "?quarter=4",
            detail_url(q4),
        ):
            expected = typed if kind == "money" else f"{typed}%"
            assert expected in text(document(client.get(url))), url


# The manager's page for a metric's target ------------------------------------------------------


@pytest.mark.django_db
def test_the_manager_sets_a_target_with_a_reason_kept_in_the_history(client, manager, plan):
    the_metric = action("1.1").metrics.get(name="Referrals managed")
    url = reverse("metric_target", args=[the_metric.pk])
    client = signed_in(client, manager)
    post = {
        "frequency": "quarterly",
        "target": "1,200",
        "target_period": "year",
        "target_direction": "higher",
        "amber_tolerance": "15",
        "reason": "",
    }
    refused = client.post(url, post)  # the plan is active: a reason is required
    assert refused.status_code == 200
    assert error_summary(refused) == [
        ("#id_reason", "Enter why it is changing: the plan is active")
    ]
    assert document(refused).xpath("//input[@name='target']/@value") == ["1,200"]
    the_metric.refresh_from_db()
    assert the_metric.target is None

    response = client.post(url, post | {"reason": "Board agreed the year's target"})
    assert response.status_code == 302
    the_metric.refresh_from_db()
    assert (the_metric.target, the_metric.amber_tolerance) == (1200, 15)
    latest = the_metric.history.latest()
    assert latest.history_change_reason == "Board agreed the year's target"
    assert latest.history_user == manager
    page = client.get(reverse("action_detail", args=[the_metric.action_id]))
    assert "Target 1,200 for the year, higher is better, amber within 15%" in text(document(page))


@pytest.mark.django_db
def test_a_target_that_is_not_a_number_is_refused_beside_the_field(client, manager, plan):
    the_metric = action("1.1").metrics.get(name="Referrals managed")
    response = signed_in(client, manager).post(
        reverse("metric_target", args=[the_metric.pk]),
        {
            "frequency": "quarterly",
            "target": "lots",
            "target_period": "year",
            "target_direction": "higher",
            "amber_tolerance": "10",
            "reason": "Why not",
        },
    )
    assert error_summary(response) == [
        ("#id_target", "The target must be a whole number, like 1,234")
    ]
