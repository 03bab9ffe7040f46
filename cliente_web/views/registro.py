"""Portal area: registro (filled in by its issue work)."""

urlpatterns = []
