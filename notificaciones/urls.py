"""Providers' webhooks (delivery receipts, inbound STOP/BAJA), mounted at ``/webhooks/``."""

app_name = "webhooks"

urlpatterns = []
