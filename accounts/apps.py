from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and roles"

    def ready(self):
        from accounts import second_factor, throttles

        throttles.connect()
        second_factor.connect()

        from django.contrib.auth import models as auth_models
        from django.contrib.auth.signals import user_logged_in

        # Django stamps last_login with a save(), which would add a row to the user's
        # history at every sign-in; an update() stamps it without one.
        user_logged_in.disconnect(auth_models.update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(record_sign_in, dispatch_uid="update_last_login")


def record_sign_in(sender, user, **kwargs):
    from django.utils import timezone

    user.last_login = timezone.now()
    type(user).objects.filter(pk=user.pk).update(last_login=user.last_login)
