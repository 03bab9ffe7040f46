"""Fixtures of the appointment tests that need a slot beyond the portal's change cut-off."""

import datetime

import pytest
from django.utils import timezone


@pytest.fixture
def en_tres_dias_10():
    """Three days from today at 10:00 in Santiago: always beyond the 24-hour cut-off and the
    minimum notice, whatever the time the tests run (``manana_10`` may be 14 hours away)."""
    dia = timezone.localdate() + datetime.timedelta(days=3)
    return timezone.make_aware(datetime.datetime.combine(dia, datetime.time(10, 0)))
