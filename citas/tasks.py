"""The appointments' background jobs. The worker discovers tasks in ``tasks`` modules only:
this registers the reminders' periodic job (``citas.recordatorios``)."""

from citas import recordatorios  # noqa: F401
