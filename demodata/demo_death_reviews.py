"""Demo death reviews for trying the death review module. Never for production.

Everything here is made up: each reference starts "DEMO", each pseudonym says "(made up)",
and no review describes a real death. Two reviews are published and one is in progress; their
recommendations are owned by seeded agencies, and their actions show each state the module
knows: closed with approved evidence, open and on time, open and overdue, and the quarterly
updates for the demo plan's quarters in draft, submitted, sent back and approved.

Most dates sit in the demo plan's year (2022/23), so every open action whose target fell in
that year is overdue whenever the demo runs. A few targets are counted from the day the demo
is created, so there are always open actions that are not yet overdue.

Idempotent: a review whose reference exists is left alone with all it holds, so running it
again creates nothing (and keeps whatever was changed in the app since).
"""

import datetime
import hashlib
import uuid
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from actions.models import Agency
from deathreviews import services
from deathreviews.models import (
    ProgressUpdate,
    Recommendation,
    Review,
    ReviewAction,
    Theme,
    UpdateEvidence,
)
from deathreviews.rules import add_months
from priorities.models import Partnership, Plan, Quarter
from review.services import evidence_storage

from .demo_returns import DEMO_ACCOUNTS, demo_plan

# The themes a partnership starts with (one list: deathreviews.services, which `seed` loads).
DEFAULT_THEMES = services.DEFAULT_THEMES


DRAFT = ProgressUpdate.State.DRAFT
SUBMITTED = ProgressUpdate.State.SUBMITTED
SENT_BACK = ProgressUpdate.State.SENT_BACK
APPROVED = ProgressUpdate.State.APPROVED


@dataclass(frozen=True)
class FromToday:
    """A target date this many months after the day the demo is created: open and not yet
    overdue, whenever the demo runs."""

    months: int


@dataclass(frozen=True)
class DemoFile:
    name: str
    description: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class DemoUpdate:
    quarter: int  # of the demo plan
    state: str
    progress: str
    asks_to_close: bool = False
    evidence_summary: str = ""
    reviewer_comment: str = ""
    file: DemoFile | None = None


@dataclass(frozen=True)
class DemoAction:
    number: int
    lead: str
    text: str
    target: datetime.date | FromToday
    evidence_needed: str
    updates: tuple[DemoUpdate, ...] = ()


@dataclass(frozen=True)
class DemoRecommendation:
    number: int
    text: str
    owners: tuple[str, ...]
    themes: tuple[str, ...]
    made_on: datetime.date
    actions: tuple[DemoAction, ...]
    scope: str = Recommendation.Scope.LOCAL


@dataclass(frozen=True)
class DemoReview:
    reference: str
    pseudonym: str
    notified_on: datetime.date
    decision_on: datetime.date
    decision_reason: str
    panel_convened_on: datetime.date
    recommendations: tuple[DemoRecommendation, ...]
    sent_to_qa_panel_on: datetime.date | None = None
    qa_outcome_on: datetime.date | None = None
    sent_to_commissioner_on: datetime.date | None = None
    published_on: datetime.date | None = None
    panel: tuple[str, ...] = field(default=())  # demo usernames


TRAINING_RECORD = DemoFile(
    name="demo-coercive-control-training-record.pdf",
    description="Attendance summary for the coercive control sessions (made-up demo file)",
    lines=(
        "DEMO EVIDENCE - MADE UP FOR TRYING CSP-PLAN",
        "Coercive control awareness sessions for helpline and outreach staff",
        "Sessions held: 4 (May to September 2022)",
        "Staff in post: 21. Staff trained: 20 (95%).",
        "The one member of staff not trained is on long-term leave and is booked for",
        "the next session on return.",
    ),
)

REVIEWS = (
    DemoReview(
        reference="DEMO DARDR 2021/01",
        pseudonym="Adult A (made up)",
        notified_on=datetime.date(2021, 1, 11),
        decision_on=datetime.date(2021, 2, 1),
        decision_reason=(
            "Made up for the demo: the death met the criteria in the statutory guidance, and "
            "the adult had been in contact with several partner agencies in the year before."
        ),
        panel_convened_on=datetime.date(2021, 3, 15),
        sent_to_qa_panel_on=datetime.date(2021, 7, 30),
        qa_outcome_on=datetime.date(2021, 10, 14),
        sent_to_commissioner_on=datetime.date(2021, 7, 30),
        published_on=datetime.date(2022, 1, 24),
        recommendations=(
            DemoRecommendation(
                number=1,
                text=(
                    "Partner agencies should make sure that front-line staff who take calls "
                    "from the public are trained to recognise coercive and controlling "
                    "behaviour, with a refresher at least every two years."
                ),
                owners=("DAVSS", "Kent Police"),
                themes=("Coercive control", "Training and awareness"),
                made_on=datetime.date(2021, 7, 9),
                actions=(
                    DemoAction(
                        number=1,
                        lead="DAVSS",
                        text=(
                            "Deliver coercive control awareness sessions to every helpline "
                            "and outreach worker."
                        ),
                        target=datetime.date(2022, 9, 30),
                        evidence_needed=(
                            "Attendance records showing at least 90% of helpline and "
                            "outreach staff trained."
                        ),
                        updates=(
                            DemoUpdate(
                                1,
                                APPROVED,
                                "Two of four sessions held in May and June; 11 staff trained.",
                            ),
                            DemoUpdate(
                                2,
                                APPROVED,
                                "The remaining two sessions were held in August and "
                                "September. 20 of 21 staff are now trained.",
                                asks_to_close=True,
                                evidence_summary=(
                                    "The attached attendance summary shows 20 of 21 staff "
                                    "(95%) trained, above the 90% the action asked for. The "
                                    "remaining member of staff is booked on return from leave."
                                ),
                                file=TRAINING_RECORD,
                            ),
                        ),
                    ),
                    DemoAction(
                        number=2,
                        lead="Kent Police",
                        text=(
                            "Include coercive control in the annual refresher for call "
                            "handlers in the force control room."
                        ),
                        target=datetime.date(2023, 3, 31),
                        evidence_needed=(
                            "The refresher's content and completion figures for call handlers."
                        ),
                        updates=(
                            DemoUpdate(
                                1,
                                APPROVED,
                                "Refresher content drafted with the domestic abuse lead.",
                            ),
                            DemoUpdate(
                                2,
                                APPROVED,
                                "Content approved; the first cohort is booked for November.",
                            ),
                            DemoUpdate(
                                3,
                                APPROVED,
                                "First cohort trained. Later cohorts delayed by staff "
                                "shortages in the control room.",
                            ),
                            DemoUpdate(
                                4,
                                DRAFT,
                                "Second cohort booked for March; completion now expected "
                                "after the target date.",
                            ),
                        ),
                    ),
                ),
            ),
            DemoRecommendation(
                number=2,
                text=(
                    "The council's housing service should ask about domestic abuse at every "
                    "homelessness assessment, and refer to the MARAC where the risk is high."
                ),
                owners=("TWBC Housing",),
                themes=("Housing", "Information sharing", "MARAC"),
                made_on=datetime.date(2021, 7, 9),
                actions=(
                    DemoAction(
                        number=1,
                        lead="TWBC Housing",
                        text=(
                            "Add a routine question about domestic abuse to the homelessness "
                            "assessment form and its guidance."
                        ),
                        target=datetime.date(2022, 12, 31),
                        evidence_needed=(
                            "The revised form and guidance, and a sample audit of assessments."
                        ),
                        updates=(
                            DemoUpdate(1, APPROVED, "Revised question agreed with DAVSS."),
                            DemoUpdate(
                                2, APPROVED, "Form and guidance revised; in use from 1 August."
                            ),
                            DemoUpdate(
                                3,
                                APPROVED,
                                "Audit of 30 assessments completed in December.",
                                asks_to_close=True,
                                evidence_summary=(
                                    "The audit found the question asked in 28 of 30 "
                                    "assessments; the two missed were followed up with the "
                                    "officers. The revised form is in use."
                                ),
                            ),
                        ),
                    ),
                    DemoAction(
                        number=2,
                        lead="TWBC Housing",
                        text="Train housing options officers to make referrals to the MARAC.",
                        target=datetime.date(2023, 3, 31),
                        evidence_needed="Training records and the number of MARAC referrals.",
                        updates=(
                            DemoUpdate(2, APPROVED, "Training booked with the MARAC coordinator."),
                            DemoUpdate(3, APPROVED, "First session held in November."),
                            DemoUpdate(
                                4,
                                SENT_BACK,
                                "Training continuing.",
                                reviewer_comment=(
                                    "Please say how many officers have been trained so far and "
                                    "how many referrals they have made this quarter."
                                ),
                            ),
                        ),
                    ),
                ),
            ),
            DemoRecommendation(
                number=3,
                text=(
                    "The Home Office and NHS England should consider national guidance on "
                    "sharing information about domestic abuse between GP practices and "
                    "specialist domestic abuse services."
                ),
                owners=("Kent County Council",),
                themes=("Information sharing", "Mental health"),
                made_on=datetime.date(2021, 7, 9),
                scope=Recommendation.Scope.NATIONAL,
                actions=(
                    DemoAction(
                        number=1,
                        lead="Kent County Council",
                        text=(
                            "Write to the Home Office and NHS England setting out the "
                            "recommendation and the review's findings."
                        ),
                        target=datetime.date(2022, 6, 30),
                        evidence_needed="The letters sent and any replies.",
                        updates=(
                            DemoUpdate(
                                1,
                                APPROVED,
                                "Letters sent in May; a reply from NHS England was received.",
                                asks_to_close=True,
                                evidence_summary=(
                                    "Both letters were sent on 16 May 2022; NHS England "
                                    "replied on 20 June that the point will inform its "
                                    "guidance. Copies are held by the community safety team."
                                ),
                            ),
                        ),
                    ),
                ),
            ),
        ),
    ),
    DemoReview(
        reference="DEMO DARDR 2021/02",
        pseudonym="Adult B (made up)",
        notified_on=datetime.date(2021, 5, 17),
        decision_on=datetime.date(2021, 6, 10),
        decision_reason=(
            "Made up for the demo: the criteria in the statutory guidance were met, and the "
            "review could show how substance use and domestic abuse services work together."
        ),
        panel_convened_on=datetime.date(2021, 7, 5),
        sent_to_qa_panel_on=datetime.date(2021, 12, 3),
        qa_outcome_on=datetime.date(2022, 3, 10),
        sent_to_commissioner_on=datetime.date(2021, 12, 3),
        published_on=datetime.date(2022, 5, 16),
        recommendations=(
            DemoRecommendation(
                number=1,
                text=(
                    "Substance use and domestic abuse services should agree a joint pathway, "
                    "so that a person who needs both is offered one plan of support."
                ),
                owners=("We Are With You", "DAVSS"),
                themes=("Substance use", "Mental health"),
                made_on=datetime.date(2021, 11, 19),
                actions=(
                    DemoAction(
                        number=1,
                        lead="We Are With You",
                        text="Agree and publish a joint referral pathway with DAVSS.",
                        target=datetime.date(2023, 3, 31),
                        evidence_needed="The published pathway, signed off by both services.",
                        updates=(
                            DemoUpdate(2, APPROVED, "First draft of the pathway shared."),
                            DemoUpdate(3, APPROVED, "Comments from both services being worked in."),
                            DemoUpdate(
                                4,
                                SUBMITTED,
                                "Sign-off delayed: the pathway goes to both boards in April.",
                            ),
                        ),
                    ),
                    DemoAction(
                        number=2,
                        lead="DAVSS",
                        text="Name a substance use champion in the outreach team.",
                        target=datetime.date(2022, 12, 31),
                        evidence_needed="The champion's role description and who holds it.",
                        updates=(
                            DemoUpdate(2, APPROVED, "Role description drafted."),
                            DemoUpdate(
                                3,
                                APPROVED,
                                "A champion has been named and has started in the role.",
                                asks_to_close=True,
                                evidence_summary=(
                                    "The role description was agreed in October and an "
                                    "outreach worker took up the role in November; the "
                                    "champion now attends the substance use team's meeting "
                                    "each month."
                                ),
                            ),
                        ),
                    ),
                ),
            ),
            DemoRecommendation(
                number=2,
                text=(
                    "Risk assessments should take account of older victims, including where "
                    "the person harming them is an adult family member or a carer."
                ),
                owners=("Kent Police",),
                themes=("Older people", "Risk assessment"),
                made_on=datetime.date(2021, 11, 19),
                actions=(
                    DemoAction(
                        number=1,
                        lead="Kent Police",
                        text=(
                            "Add guidance on older victims and abuse by family members to the "
                            "briefing on the domestic abuse risk assessment."
                        ),
                        target=FromToday(months=9),
                        evidence_needed="The revised briefing and the date it was issued.",
                        updates=(
                            DemoUpdate(
                                3,
                                APPROVED,
                                "Guidance drafted with advice from an older people's charity.",
                            ),
                            DemoUpdate(
                                4,
                                SUBMITTED,
                                "Revised briefing with the force's policy team for approval.",
                            ),
                        ),
                    ),
                ),
            ),
            DemoRecommendation(
                number=3,
                text=(
                    "Where children live in the household, the MARAC should make sure Early "
                    "Help is invited and receives the action plan."
                ),
                owners=("KCC Early Help",),
                themes=("Children and young people", "MARAC"),
                made_on=datetime.date(2021, 11, 19),
                actions=(
                    DemoAction(
                        number=1,
                        lead="KCC Early Help",
                        text=(
                            "Agree with the MARAC chair that Early Help attends every meeting "
                            "where children live in the household."
                        ),
                        target=FromToday(months=12),
                        evidence_needed="The agreement and a quarter's attendance record.",
                        updates=(
                            DemoUpdate(
                                4,
                                SUBMITTED,
                                "Agreement reached in principle; attendance to be recorded "
                                "from next quarter.",
                            ),
                        ),
                    ),
                ),
            ),
        ),
    ),
    DemoReview(
        reference="DEMO DARDR 2022/01",
        pseudonym="Adult C (made up)",
        notified_on=datetime.date(2022, 9, 5),
        decision_on=datetime.date(2022, 9, 29),
        decision_reason=(
            "Made up for the demo: the criteria in the statutory guidance were met; the "
            "adult had been known to the MARAC."
        ),
        panel_convened_on=datetime.date(2022, 11, 7),
        panel=("police",),
        recommendations=(
            DemoRecommendation(
                number=1,
                text=(
                    "Partners should make sure their staff know how to refer to the MARAC "
                    "and how to keep a victim safe while a referral is waiting."
                ),
                owners=("DAVSS",),
                themes=("MARAC", "Training and awareness"),
                made_on=datetime.date(2023, 2, 20),
                actions=(
                    DemoAction(
                        number=1,
                        lead="DAVSS",
                        text=(
                            "Run a briefing on MARAC referrals for partners' safeguarding leads."
                        ),
                        target=FromToday(months=6),
                        evidence_needed="The briefing's slides and who attended.",
                        updates=(DemoUpdate(4, DRAFT, "Briefing being planned for May."),),
                    ),
                ),
            ),
            DemoRecommendation(
                number=2,
                text=(
                    "Kent Police should tell the victim's GP the outcome of a call-out to a "
                    "domestic incident, where the victim agrees."
                ),
                owners=("Kent Police",),
                themes=("Information sharing", "Risk assessment"),
                made_on=datetime.date(2023, 2, 20),
                actions=(
                    DemoAction(
                        number=1,
                        lead="Kent Police",
                        text=(
                            "Agree an information sharing protocol with GP practices in the "
                            "borough."
                        ),
                        target=datetime.date(2023, 6, 30),
                        evidence_needed="The signed protocol.",
                    ),
                ),
            ),
        ),
    ),
)


def ensure_themes(partnership: Partnership) -> dict[str, Theme]:
    """The default themes, created where missing (by name, whatever its case, so a list the
    manager or the app already keeps is merged, not duplicated)."""
    themes = {}
    for name in DEFAULT_THEMES:
        theme, _ = Theme.objects.get_or_create(
            partnership=partnership, name__iexact=name, defaults={"name": name}
        )
        themes[name] = theme
    return themes


def demo_pdf(lines: tuple[str, ...]) -> bytes:
    """A small, valid one-page PDF that shows the lines given (ASCII only)."""
    text = (
        "BT /F1 11 Tf 56 780 Td 15 TL "
        + " ".join(
            "({}) '".format(line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)"))
            for line in lines
        )
        + " ET"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode("ascii")),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def at_office_hours(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@transaction.atomic
def create_demo_death_reviews(plan: Plan | None = None) -> list[Review]:
    """The demo reviews that do not exist yet, with their recommendations, actions, updates
    and one evidence file. Needs the demo accounts. Returns the reviews it created."""
    plan = plan or demo_plan()
    usernames = [account[0] for account in DEMO_ACCOUNTS]
    users = {user.username: user for user in User.objects.filter(username__in=usernames)}
    if "manager" not in users:
        raise RuntimeError("Create the demo accounts (create_demo_accounts) first.")
    manager = users["manager"]
    # Partners write their own agency's updates; the manager enters the rest on their behalf.
    writer_for = {
        agency: users[username]
        for username, _, _, _, agency, _ in DEMO_ACCOUNTS
        if agency and username in users
    }
    themes = ensure_themes(plan.partnership)
    quarters = {quarter.number: quarter for quarter in Quarter.objects.filter(plan=plan)}
    agencies = {agency.name: agency for agency in Agency.objects.all()}
    today = timezone.localdate()

    created = []
    existing = set(Review.objects.values_list("reference", flat=True))
    for spec in REVIEWS:
        if spec.reference in existing:
            continue
        review = Review(
            partnership=plan.partnership,
            reference=spec.reference,
            pseudonym=spec.pseudonym,
            notified_on=spec.notified_on,
            decision=Review.Decision.HOLD,
            decision_on=spec.decision_on,
            decision_reason=spec.decision_reason,
            panel_convened_on=spec.panel_convened_on,
            sent_to_qa_panel_on=spec.sent_to_qa_panel_on,
            qa_outcome=Review.QaOutcome.ACCEPTED if spec.qa_outcome_on else "",
            qa_outcome_on=spec.qa_outcome_on,
            sent_to_commissioner_on=spec.sent_to_commissioner_on,
            published_on=spec.published_on,
            created_by=manager,
        )
        recorded = at_office_hours(spec.notified_on)
        save_as(review, manager, recorded)
        Review.objects.filter(pk=review.pk).update(created_at=recorded, updated_at=recorded)
        review.panel_members.add(*(users[name] for name in spec.panel if name in users))
        for recommendation_spec in spec.recommendations:
            create_recommendation(
                review, recommendation_spec, agencies, themes, quarters, writer_for, manager, today
            )
        created.append(review)
    return created


def save_as(instance, user: User, when: datetime.datetime | None = None) -> None:
    instance._history_user = user
    instance._change_reason = "Demo data"
    if when is not None:
        instance._history_date = when
    instance.save()


def create_recommendation(
    review, spec, agencies, themes, quarters, writer_for, manager, today
) -> Recommendation:
    recommendation = Recommendation(
        review=review,
        number=spec.number,
        text=spec.text,
        scope=spec.scope,
        made_on=spec.made_on,
    )
    agreed = at_office_hours(spec.made_on)
    save_as(recommendation, manager, agreed)
    recommendation.owners.add(*(agencies[name] for name in spec.owners))
    recommendation.themes.add(*(themes[name] for name in spec.themes))
    for action_spec in spec.actions:
        target = action_spec.target
        if isinstance(target, FromToday):
            target = add_months(today, target.months)
        action = ReviewAction(
            recommendation=recommendation,
            number=action_spec.number,
            text=action_spec.text,
            lead_agency=agencies[action_spec.lead],
            target_date=target,
            evidence_needed=action_spec.evidence_needed,
        )
        save_as(action, manager, agreed)
        writer = writer_for.get(action_spec.lead, manager)
        for update_spec in action_spec.updates:
            update = create_update(action, update_spec, quarters, writer, manager)
            if update.asks_to_close and update.state == APPROVED:
                # Closed when the manager approved the update that asked to close it.
                action.closed_at, action.closed_by = update.reviewed_at, manager
                save_as(action, manager, update.reviewed_at)
    return recommendation


def create_update(action, spec: DemoUpdate, quarters, writer, manager) -> ProgressUpdate:
    quarter = quarters[spec.quarter]
    # Written in the fortnight after the quarter ends; reviewed a week later.
    submitted_at = at_office_hours(quarter.end + datetime.timedelta(days=10))
    reviewed_at = at_office_hours(quarter.end + datetime.timedelta(days=17), hour=14)
    written = submitted_at - datetime.timedelta(days=3)
    update = ProgressUpdate(
        action=action,
        quarter=quarter,
        progress=spec.progress,
        asks_to_close=spec.asks_to_close,
        evidence_summary=spec.evidence_summary,
        state=spec.state,
        reviewer_comment=spec.reviewer_comment,
        created_by=writer,
    )
    if spec.state != DRAFT:
        update.submitted_by, update.submitted_at = writer, submitted_at
    if spec.state in (APPROVED, SENT_BACK):
        update.reviewed_by, update.reviewed_at = manager, reviewed_at
        update.version = 2
    save_as(update, writer, update.reviewed_at or update.submitted_at or written)
    # auto_now stamps both with today; the demo's updates were written in their quarter.
    ProgressUpdate.objects.filter(pk=update.pk).update(
        created_at=written, updated_at=update.reviewed_at or update.submitted_at or written
    )
    if spec.file:
        attach_demo_file(update, spec.file, writer)
    return update


def attach_demo_file(update: ProgressUpdate, demo_file: DemoFile, writer: User) -> None:
    """Stored as the app stores evidence: in the evidence storage, under a name of its own."""
    content = demo_pdf(demo_file.lines)
    stored_name = evidence_storage().save(
        f"death-reviews/{update.pk}/{uuid.uuid4().hex}.pdf", ContentFile(content)
    )
    UpdateEvidence.objects.create(
        update=update,
        name=demo_file.name,
        description=demo_file.description,
        kind=UpdateEvidence.Kind.PDF,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        stored_name=stored_name,
        uploaded_by=writer,
    )
