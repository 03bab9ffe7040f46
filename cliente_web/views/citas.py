"""Portal area: citas (filled in by its issue work)."""

urlpatterns = []
