import factory

from accounts.models import Role, User
from actions.models import Action, Agency, Metric
from priorities.models import Partnership, Plan, Priority

PASSWORD = "a-long-test-passphrase-7"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.PARTNER
    password = factory.django.Password(PASSWORD)


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Test agency {n}")
    short_name = factory.Sequence(lambda n: f"TA{n}")
    kind = Agency.Kind.VOLUNTARY


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership
        django_get_or_create = ("name",)

    name = "Test Community Safety Partnership"
    header_name = "Test safety plan"


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    partnership = factory.SubFactory(PartnershipFactory)
    financial_year = factory.Sequence(lambda n: 2000 + n)
    title = factory.LazyAttribute(lambda plan: f"Plan {plan.financial_year}")
    assessment_start = factory.LazyAttribute(lambda plan: f"{plan.financial_year - 1}-01-01")
    assessment_end = factory.LazyAttribute(lambda plan: f"{plan.financial_year - 1}-12-31")


class PriorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Priority

    plan = factory.SubFactory(PlanFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Priority {n}")
    short_title = factory.LazyAttribute(lambda priority: priority.title)


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    priority = factory.SubFactory(PriorityFactory)
    number = factory.Sequence(lambda n: n + 1)
    description = factory.Sequence(lambda n: f"Test action {n}")
    lead_agencies = "Test agency"
    measure = "Number of things done."


class MetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Metric

    action = factory.SubFactory(ActionFactory)
    name = factory.Sequence(lambda n: f"Things {n}")
