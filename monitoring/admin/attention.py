"""The console's index opens with what needs a person now (DESIGN §5): its template places one
panel per kind of attention (`monitoring/templatetags/monitoring_console.py`)."""

from django.contrib import admin

admin.site.index_template = "admin/monitoring/index.html"
