"""Accounts in the console: login lockouts and API tokens are the operator's business."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from rest_framework.authtoken.models import TokenProxy

from config.admin import restrict_to_superusers

# django-axes and DRF's token app register their admins before this module is imported
# (INSTALLED_APPS order), so they are found here.
restrict_to_superusers(AccessAttempt, AccessLog, AccessFailureLog, TokenProxy)
