"""Alarms, notification targets and the outbox in the operator console. Alarms are facts: the
console shows them and takes an acknowledgement (with a comment), nothing else."""

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from config.admin import EstimatedCountPaginator, InputListFilter, confirm_action

from ..models import (
    Alarm,
    AlarmState,
    DeliveryState,
    Event,
    Notification,
    NotificationTarget,
)
from ..notify import masked, url_problem
from ..services import (
    AlreadyAcknowledgedError,
    alarm_acknowledge,
    target_create,
    target_send_test,
    target_update,
)


def alarm_badge(alarm: Alarm) -> str:
    """The alarm's state in a coloured word: active (by kind), cleared but not acknowledged,
    closed."""
    if alarm.cleared_at is None:
        css = {"high": "high", "low": "low"}.get(alarm.kind, "warn")
        label = "Active"
    elif alarm.acknowledged_at is None:
        css, label = "warn", "Not acknowledged"
    else:
        css, label = "ok", "Closed"
    return format_html('<span class="console-badge console-badge-{}">{}</span>', css, label)


def _minute(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


class AlarmRoomFilter(InputListFilter):
    """Alarms of one room (its exact id)."""

    title = "room"
    parameter_name = "room_id"
    placeholder = "room id"

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = (self.value() or "").strip()
        return queryset.filter(room_id=value) if value else queryset


class AlarmStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(AlarmState.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value not in AlarmState.values:
            return queryset
        return queryset.in_state(value)  # type: ignore[attr-defined]


class NotificationInline(admin.TabularInline[Notification, Alarm]):
    """Who was told of the alarm, and how each delivery went (read-only)."""

    model = Notification
    fields = ("event", "target", "state", "attempts", "created_at", "sent_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Notifications (read-only)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return super().get_queryset(request).select_related("target")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Last error")
    def error(self, notification: Notification) -> str:
        return masked(notification.target.url, notification.last_error) or "-"


class AcknowledgeForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        max_length=2000,
        help_text="What was found or done; kept with the alarm.",
    )


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin[Alarm]):
    list_display = [
        "id",
        "room_link",
        "kind",
        "state_badge",
        "opened",
        "raised",
        "cleared",
        "peak",
        "acknowledged_by",
    ]
    list_display_links = ["id"]
    list_filter = [AlarmRoomFilter, "kind", AlarmStateFilter]
    search_fields = ["room__room_id"]
    search_help_text = "An exact room id."
    ordering = ["-raised_at", "-id"]
    readonly_fields = (
        "room",
        "kind",
        "opened_at",
        "raised_at",
        "cleared_at",
        "peak",
        "readings",
        "acknowledged_at",
        "acknowledged_by",
        "comment",
    )
    fields = readonly_fields
    inlines = [NotificationInline]
    actions = ["acknowledge_selected"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    change_form_template = "admin/monitoring/alarm/change_form.html"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Alarm], search_term: str
    ) -> tuple[QuerySet[Alarm], bool]:
        term = search_term.strip()
        return (queryset.filter(room_id=term), False) if term else (queryset, False)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Room", ordering="room_id")
    def room_link(self, alarm: Alarm) -> str:
        url = reverse("admin:measurements_room_change", args=[alarm.room_id])
        return format_html('<a href="{}">{}</a>', url, alarm.room_id)

    @admin.display(description="State")
    def state_badge(self, alarm: Alarm) -> str:
        return alarm_badge(alarm)

    # To the minute in the list (the page has the seconds): the list fits 1280 pixels.
    @admin.display(description="Opened (UTC)", ordering="opened_at")
    def opened(self, alarm: Alarm) -> str:
        return _minute(alarm.opened_at)

    @admin.display(description="Raised (UTC)", ordering="raised_at")
    def raised(self, alarm: Alarm) -> str:
        return _minute(alarm.raised_at)

    @admin.display(description="Cleared (UTC)", ordering="cleared_at")
    def cleared(self, alarm: Alarm) -> str:
        return _minute(alarm.cleared_at)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/acknowledge/",
                self.admin_site.admin_view(self.acknowledge_view),
                name="monitoring_alarm_acknowledge",
            ),
            *super().get_urls(),
        ]

    def acknowledge_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST a comment: acknowledge one alarm, then back where the person came from."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:monitoring_alarm_change", args=[object_id]))
        if not self.has_change_permission(request):
            raise PermissionDenied
        alarm = get_object_or_404(Alarm, pk=object_id if str(object_id).isdigit() else 0)
        form = AcknowledgeForm(request.POST)
        if not form.is_valid():
            self.message_user(
                request, "An acknowledgement needs a comment: nothing was changed.", messages.ERROR
            )
        else:
            try:
                alarm_acknowledge(
                    alarm=alarm,
                    username=request.user.get_username(),
                    comment=form.cleaned_data["comment"],
                )
                self.message_user(request, f"Acknowledged alarm {alarm.pk}.", messages.SUCCESS)
            except (AlreadyAcknowledgedError, ValidationError) as exc:
                text = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, text, messages.WARNING)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("admin:monitoring_alarm_change", args=[alarm.pk])
        return HttpResponseRedirect(back)

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> HttpResponse:
        context["acknowledge_form"] = AcknowledgeForm()
        return super().render_change_form(request, context, *args, **kwargs)

    @admin.action(
        description="Acknowledge the selected alarms (with a comment)", permissions=["change"]
    )
    def acknowledge_selected(
        self, request: HttpRequest, queryset: QuerySet[Alarm]
    ) -> TemplateResponse | None:
        pending = list(queryset.filter(acknowledged_at__isnull=True).order_by("-raised_at")[:500])
        if not pending:
            self.message_user(request, "Those alarms are acknowledged already.", messages.WARNING)
            return None
        confirmation = confirm_action(
            self,
            request,
            title="Acknowledge alarms",
            question=f"Acknowledge {len(pending)} alarm(s)? The comment is kept with each.",
            items=[
                f"#{a.pk} {a.room_id}: {a.get_kind_display()} since {a.opened_at:%Y-%m-%d %H:%M} UTC"
                for a in pending
            ],
            ask=("comment", "Comment (what was found or done)"),
        )
        if confirmation is not None:
            return confirmation
        comment = request.POST["comment"].strip()
        done = 0
        for alarm in pending:
            try:
                alarm_acknowledge(
                    alarm=alarm, username=request.user.get_username(), comment=comment
                )
                done += 1
            except AlreadyAcknowledgedError:
                continue  # someone else acknowledged it meanwhile
        self.message_user(request, f"Acknowledged {done} alarm(s).", messages.SUCCESS)
        return None


class TargetForm(forms.ModelForm[NotificationTarget]):
    """A target's fields, checked by the service the API calls; its URL shown masked."""

    events = forms.MultipleChoiceField(
        choices=Event.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = NotificationTarget
        fields = ["name", "url", "enabled", "rooms", "events"]
        widgets = {"url": forms.TextInput(attrs={"size": 80})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Never the secret: the masked URL, which saved unchanged keeps the stored one.
            self.initial["url"] = masked(self.instance.url)
            self.fields["url"].help_text = (
                "Shown with its passwords, tokens and keys as ***; leave it as it is to keep "
                "them, or type the whole URL again."
            )

    def clean_url(self) -> str:
        url = str(self.cleaned_data.get("url") or "")
        if self.instance.pk and url == masked(self.instance.url):
            return url  # the service keeps the stored URL
        problem = url_problem(url)
        if problem:
            raise ValidationError(problem)
        return url.strip()


@admin.register(NotificationTarget)
class NotificationTargetAdmin(admin.ModelAdmin[NotificationTarget]):
    form = TargetForm
    list_display = ["name", "masked_url", "enabled", "event_list", "room_list"]
    list_filter = ["enabled"]
    search_fields = ["name"]
    autocomplete_fields = ["rooms"]
    actions = ["send_test"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[NotificationTarget]:
        return super().get_queryset(request).prefetch_related("rooms")

    @admin.display(description="URL")
    def masked_url(self, target: NotificationTarget) -> str:
        return masked(target.url)

    @admin.display(description="Events")
    def event_list(self, target: NotificationTarget) -> str:
        return ", ".join(target.events) or "-"

    @admin.display(description="Rooms")
    def room_list(self, target: NotificationTarget) -> str:
        return ", ".join(room.pk for room in target.rooms.all()) or "all"

    def save_model(
        self, request: HttpRequest, obj: NotificationTarget, form: Any, change: bool
    ) -> None:
        # Through the services, as the API writes: the same checks of the URL, rooms, events.
        fields = form.cleaned_data
        rooms = [room.pk for room in fields.get("rooms") or []]
        if change:
            target_update(
                target=obj,
                name=fields["name"],
                url=fields["url"],
                enabled=fields["enabled"],
                events=list(fields["events"]),
                rooms=rooms,
            )
        else:
            created = target_create(
                name=fields["name"],
                url=fields["url"],
                enabled=fields["enabled"],
                events=list(fields["events"]),
                rooms=rooms,
            )
            obj.pk = created.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The service set the rooms already.
        form.save_m2m = lambda: None
        super().save_related(request, form, formsets, change)

    @admin.action(description="Send a test notification to the selected targets")
    def send_test(self, request: HttpRequest, queryset: QuerySet[NotificationTarget]) -> None:
        for target in queryset:
            error = target_send_test(target=target)
            if error is None:
                self.message_user(
                    request, f"{target.name}: the test was handed over.", messages.SUCCESS
                )
            else:
                self.message_user(request, f"{target.name}: {error}", messages.ERROR)


class NotificationStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(DeliveryState.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(state=value) if value in DeliveryState.values else queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    """The outbox, read-only: what was announced to whom, and how delivery went."""

    list_display = [
        "id",
        "event",
        "target",
        "alarm_link",
        "state",
        "attempts",
        "created_at",
        "sent_at",
        "error",
    ]
    list_filter = [NotificationStateFilter, "event"]
    list_select_related = ["target"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="About")
    def alarm_link(self, notification: Notification) -> str:
        if notification.instrument_id is not None:  # a due reminder
            url = reverse("admin:calibrations_instrument_change", args=[notification.instrument_id])
            return format_html('<a href="{}">{}</a>', url, notification.instrument_id)
        if notification.alarm_id is None:
            return "-"
        url = reverse("admin:monitoring_alarm_change", args=[notification.alarm_id])
        return format_html('<a href="{}">#{}</a>', url, notification.alarm_id)

    @admin.display(description="Last error")
    def error(self, notification: Notification) -> str:
        return masked(notification.target.url, notification.last_error) or "-"
