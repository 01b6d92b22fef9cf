"""The schedules (django-celery-beat's pages) and the integrity checks' last results, for admins only.

django-celery-beat registers its own admins; here they are put under the role matrix
(``jobs.manage``, held by ``admin`` alone: contract §3), its bulk actions declared with
that permission, so that only an admin edits, disables or runs a schedule.
"""

from django.contrib import admin
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

from common.admin import RoleAdminMixin, role_action

from .models import IntegrityCheck

JOBS_MANAGE = {"view": "jobs.manage", "add": "jobs.manage", "change": "jobs.manage", "delete": "jobs.manage"}


class PeriodicTaskAdmin(RoleAdminMixin, beat_admin.PeriodicTaskAdmin):
    role_permissions = JOBS_MANAGE

    @role_action(permission="jobs.manage", description="Enable selected schedules")
    def enable_tasks(self, request, queryset):
        return super().enable_tasks(request, queryset)

    @role_action(permission="jobs.manage", description="Disable selected schedules")
    def disable_tasks(self, request, queryset):
        return super().disable_tasks(request, queryset)

    @role_action(permission="jobs.manage", description="Toggle selected schedules")
    def toggle_tasks(self, request, queryset):
        return super().toggle_tasks(request, queryset)

    @role_action(permission="jobs.manage", description="Run selected tasks now")
    def run_tasks(self, request, queryset):
        return super().run_tasks(request, queryset)


class PeriodicTaskInline(RoleAdminMixin, beat_admin.PeriodicTaskInline):
    """The schedules using a schedule, on its page (added on the schedule's own page, as django-celery-beat has it)."""

    role_permissions = {**JOBS_MANAGE, "add": None}


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)
for _schedule in (ClockedSchedule, CrontabSchedule, SolarSchedule, IntervalSchedule):
    _beat_admin = type(admin.site.get_model_admin(_schedule))
    admin.site.unregister(_schedule)
    admin.site.register(
        _schedule,
        type(
            _beat_admin.__name__,
            (RoleAdminMixin, _beat_admin),
            {"role_permissions": JOBS_MANAGE, "inlines": [PeriodicTaskInline], "__module__": __name__},
        ),
    )


@admin.register(IntegrityCheck)
class IntegrityCheckAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Read-only: the nightly job writes these rows."""

    role_permissions = {"view": "jobs.manage", "add": None, "change": None, "delete": None}
    list_display = ["command", "passed", "differences", "ran_at"]
    list_filter = ["passed"]
