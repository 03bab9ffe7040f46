"""Portal area: reservas (filled in by its issue work)."""

urlpatterns = []
