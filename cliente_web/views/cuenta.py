"""Portal area: cuenta (filled in by its issue work)."""

urlpatterns = []
