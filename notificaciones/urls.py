"""Providers' webhooks (delivery receipts, inbound STOP/BAJA), mounted at ``/webhooks/``."""

from django.urls import path

from notificaciones import views

app_name = "webhooks"

urlpatterns = [
    path("twilio/", views.twilio_entrante, name="twilio"),
    path("twilio/estado/", views.twilio_estado, name="twilio_estado"),
    path("meta/", views.meta, name="meta"),
]
