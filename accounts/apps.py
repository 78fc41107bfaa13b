from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and roles"

    def ready(self):
        from accounts import second_factor, throttles

        throttles.connect()
        second_factor.connect()
