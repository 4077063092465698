"""Create the console's role groups (apis/console/permissions.py explains them)."""

from django.db import migrations

CONSOLE_GROUPS = ("console-admin", "console-editor", "console-readonly")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in CONSOLE_GROUPS:
        Group.objects.get_or_create(name=name)


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=CONSOLE_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("apis", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
