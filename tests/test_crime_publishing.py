"""Crime figures are published, not just saved: a year entered or imported is a draft the
manager alone sees, marked, until the manager publishes it; every dashboard, report and
paper, and the crime pages for everyone else, use the latest published year and say so."""

import io

import docx
import pytest
from django.urls import reverse
from lxml import html

from crimestats import statistics
from crimestats.models import Area, CrimeFigure, CrimeType, PublishedYear

HOME = "Tunbridge Wells"


def all_crime() -> CrimeType:
    return CrimeType.objects.get(name="All crime")


def home() -> Area:
    return Area.objects.get(name=HOME)


def save_one_2022_figure(client, manager) -> None:
    """Through the form, as the manager does: one figure for 2022."""
    client.force_login(manager)
    page = html.fromstring(client.get(reverse("crime_figures_edit", args=[2022])).content)
    values = {
        element.get("name"): element.get("value") or ""
        for element in page.xpath("//main//form[@method='post']//input")
        if element.get("name") != "csrfmiddlewaretoken"
    }
    values[f"count_{all_crime().pk}"] = "9,999"
    response = client.post(reverse("crime_figures_edit", args=[2022]), values)
    assert response.status_code == 302
    assert CrimeFigure.objects.filter(area=home(), year=2022).count() == 1


def headlines(client, user) -> dict[str, str]:
    """The crime headline on every page that shows one, and the Word paper's sentence."""
    client.force_login(user)
    pages = {
        "home": reverse("home"),
        "dashboard": reverse("dashboard"),
        "report": reverse("quarterly_report"),
    }
    seen = {}
    for name, url in pages.items():
        page = html.fromstring(client.get(url).content)
        [panel] = page.xpath("//div[contains(@class, 'app-headline')]")
        seen[name] = " ".join(" ".join(panel.itertext()).split())
    paper = docx.Document(
        io.BytesIO(client.get(reverse("quarterly_report") + "?format=docx").content)
    )
    seen["paper"] = next(
        p.text for p in paper.paragraphs if p.text.startswith("All recorded crime")
    )
    return seen


@pytest.mark.django_db
def test_the_seeds_years_are_published():
    assert set(PublishedYear.objects.filter(area=home()).values_list("year", flat=True)) == {
        2020,
        2021,
    }
    assert statistics.latest_published() == (home(), 2021)


@pytest.mark.django_db
def test_saving_a_2022_figure_does_not_make_it_the_headline_until_published(
    client, manager, board_member
):
    save_one_2022_figure(client, manager)
    for user in (board_member, manager):
        for name, text in headlines(client, user).items():
            assert "2021" in text and "9,999" not in text, (user, name, text)
    # The board's crime page offers the published years only; the manager's marks the draft.
    client.force_login(board_member)
    board_page = client.get(reverse("crime_statistics") + "?year=2022").content.decode()
    assert "Crime statistics 2021" in board_page and "9,999" not in board_page
    assert "(draft)" not in board_page
    trend = client.get(reverse("crime_type_detail", args=[all_crime().pk])).content.decode()
    assert "9,999" not in trend
    client.force_login(manager)
    manager_page = client.get(reverse("crime_statistics") + "?year=2022").content.decode()
    assert "9,999" in manager_page
    assert "2022 (draft)" in manager_page
    assert "2022’s figures are a draft: only you can see them" in manager_page
    assert "Draft figures for 2022: not yet published." in manager_page

    # Published, it is the headline everywhere.
    response = client.post(reverse("crime_publish_year", args=[2022]), {"publish": "1"})
    assert response.status_code == 302
    assert PublishedYear.objects.get(area=home(), year=2022).published_by == manager
    for user in (board_member, manager):
        for name, text in headlines(client, user).items():
            assert "2022" in text and "9,999" in text, (user, name, text)
    client.force_login(board_member)
    assert "9,999" in client.get(reverse("crime_statistics")).content.decode()

    # Withdrawn, it is a draft again; the history keeps both.
    client.force_login(manager)
    client.post(reverse("crime_publish_year", args=[2022]), {"publish": "0"})
    assert not PublishedYear.objects.filter(area=home(), year=2022).exists()
    assert PublishedYear.history.filter(year=2022).count() == 2
    assert all("2021" in text for text in headlines(client, board_member).values())


@pytest.mark.django_db
def test_publishing_a_year_without_figures_is_refused_with_a_message(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("crime_publish_year", args=[2019]), {"publish": "1"}, follow=True
    )
    assert "No crime figures are held for 2019" in response.content.decode()
    assert not PublishedYear.objects.filter(year=2019).exists()
    response = client.post(
        reverse("crime_publish_year", args=[2021]), {"publish": "1"}, follow=True
    )
    assert "already published" in response.content.decode()


@pytest.mark.django_db
def test_the_published_headline_says_which_year(client, board_member):
    client.force_login(board_member)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Published figures for 2021, the latest year published." in page
