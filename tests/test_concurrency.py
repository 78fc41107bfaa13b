"""Two people at once, for real: threads with their own database connections and real
transactions on PostgreSQL (SQLite locks the whole database, so it proves nothing here;
CI runs these on PostgreSQL).

A Barrier releases the threads together, and the first transaction to take a return's
row lock is held open a moment, so the others really do arrive while it is working: with
the lock (SELECT … FOR UPDATE) they wait and then see the change; without it they would
overwrite it.
"""

import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from actions import services
from actions.models import Action, Agency, QuarterlyReturn
from csp import seed
from priorities.models import Quarter

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL's row locks and concurrent connections (CI runs it there)",
    ),
]

HOLD = 0.3  # seconds the first transaction keeps its lock


@pytest.fixture(autouse=True)
def seeded(transactional_db):
    """Transactional tests flush the database afterwards, wiping the session's seed; load
    the plan again first (autouse fixtures run before the personas need its agencies)."""
    seed.load_plan()


@pytest.fixture
def q4(plan):
    Quarter.objects.filter(plan=plan, number=4).update(is_open=True)
    return Quarter.objects.get(plan=plan, number=4)


def action(ref: str) -> Action:
    priority, number = (int(part) for part in ref.split("."))
    return Action.objects.get(
        priority__plan__financial_year=2022, priority__number=priority, number=number
    )


def run_together(*jobs) -> list:
    """Run each job in its own thread, released together; each job's result or the
    exception it raised, in order."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except Exception as error:  # noqa: BLE001 (the test looks at what each raised)
            results[index] = error
        finally:
            connections.close_all()  # this thread's connections

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results


@pytest.fixture
def slow_lock(monkeypatch):
    """Keep the row lock a moment after the version check, so concurrent transactions
    queue up behind it instead of happening to run one after the other."""
    check = services._check_version

    def held(current, seen_version):
        check(current, seen_version)
        time.sleep(HOLD)

    monkeypatch.setattr(services, "_check_version", held)


def save(user, ref, agency, quarter, *, seen_version, submit=False, narrative="Saved"):
    return services.save_return(
        user,
        action(ref),
        agency,
        quarter,
        values={},
        narrative=narrative,
        rag="green",
        rag_reason="",
        seen_version=seen_version,
        submit=submit,
    )


def test_approving_and_sending_back_at_once_ends_in_one_state(davss_user, manager, q4, slow_lock):
    davss = Agency.objects.get(name="DAVSS")
    second_manager = type(manager).objects.create(username="manager2", role=manager.role)
    for round_number in range(3):
        ref = ["1.1", "1.3", "1.4"][round_number]
        submitted = save(davss_user, ref, davss, q4, seen_version=None, submit=True)
        seen = submitted.version

        approved, sent_back = run_together(
            lambda r=submitted, v=seen: services.approve_return(manager, r, seen_version=v),
            lambda r=submitted, v=seen: services.send_back(
                second_manager, r, comment="Split by month", seen_version=v
            ),
        )

        outcomes = [approved, sent_back]
        won = [o for o in outcomes if isinstance(o, QuarterlyReturn)]
        lost = [o for o in outcomes if isinstance(o, Exception)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert isinstance(lost[0], services.ReturnError)  # told, not a crash

        final = QuarterlyReturn.objects.get(pk=submitted.pk)
        assert final.version == seen + 1  # one transition, not two
        assert final.history.count() == final.version
        if final.state == "approved":
            assert (final.reviewer_comment, final.reviewed_by) == ("", manager)
        else:
            assert final.state == "sent_back"
            assert (final.reviewer_comment, final.reviewed_by) == ("Split by month", second_manager)


def test_two_partners_saving_the_same_return_give_one_save_and_one_conflict(
    davss_user, q4, slow_lock
):
    davss = Agency.objects.get(name="DAVSS")
    colleague = type(davss_user).objects.create(username="davss2", role=davss_user.role)
    davss.members.add(colleague)
    draft = save(davss_user, "1.1", davss, q4, seen_version=None)

    results = run_together(
        lambda: save(davss_user, "1.1", davss, q4, seen_version=1, narrative="Mine"),
        lambda: save(colleague, "1.1", davss, q4, seen_version=1, narrative="Theirs"),
    )

    saved = [r for r in results if isinstance(r, QuarterlyReturn)]
    conflicts = [r for r in results if isinstance(r, services.StaleReturn)]
    assert len(saved) == 1 and len(conflicts) == 1, results
    assert "after you opened it" in str(conflicts[0])
    final = QuarterlyReturn.objects.get(pk=draft.pk)
    assert final.version == 2
    assert final.narrative == saved[0].narrative  # the winner's text, whole
    assert final.history.count() == 2


def test_two_people_starting_the_same_new_return_make_one(davss_user, manager, q4):
    """Both opened the form before there was a return (version 0)."""
    davss = Agency.objects.get(name="DAVSS")
    results = run_together(
        lambda: save(davss_user, "1.8", davss, q4, seen_version=0, narrative="Partner's"),
        lambda: save(manager, "1.8", davss, q4, seen_version=0, narrative="Manager's"),
    )
    saved = [r for r in results if isinstance(r, QuarterlyReturn)]
    refused = [r for r in results if isinstance(r, services.ReturnError)]
    assert len(saved) == 1 and len(refused) == 1, results
    [final] = QuarterlyReturn.objects.filter(action=action("1.8"), agency=davss, quarter=q4)
    assert final.narrative == saved[0].narrative
    assert final.history.count() == final.version == 1


def test_fifty_submissions_of_different_returns_at_once_all_persist(manager, q4):
    """Fifty agencies' returns submitted through the form in the same moment."""
    Through = Action.agencies.through
    pairs = list(
        Through.objects.filter(action__priority__plan=q4.plan, agency__active=True)
        .select_related("action", "agency")
        .order_by("action__priority__number", "action__number", "agency__name")[:50]
    )
    assert len(pairs) == 50
    clients = []
    for _ in pairs:
        client = Client()
        client.force_login(manager)
        clients.append(client)

    def submit(client, pair):
        data = {
            "narrative": f"Return for {pair.action.ref}",
            "rag": "green",
            "version": "0",  # the form opened before there was a return
            "submit": "1",
        }
        for metric in pair.action.metrics.all():
            data[f"metric_{metric.pk}"] = {"count": "3", "yes_no": "yes"}.get(metric.kind, "x")
        url = reverse("return_edit", args=[q4.pk, pair.action_id, pair.agency_id])
        checking = client.post(url, data)  # saved as a draft, then "Check your answers"
        if checking.status_code != 302 or not checking["Location"].endswith("/check/"):
            return checking.status_code
        return client.post(checking["Location"], {"version": "1"}).status_code

    statuses = run_together(
        *[
            lambda c=client, p=pair: submit(c, p)
            for client, pair in zip(clients, pairs, strict=True)
        ]
    )

    assert statuses == [302] * 50
    submitted = QuarterlyReturn.objects.filter(quarter=q4, state="submitted")
    assert submitted.count() == 50
    assert {(r.action_id, r.agency_id) for r in submitted} == {
        (pair.action_id, pair.agency_id) for pair in pairs
    }
    assert all(r.history.count() == 2 for r in submitted)  # draft saved, submitted
