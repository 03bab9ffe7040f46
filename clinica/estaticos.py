"""The static files storage of production: WhiteNoise's (hashed names, gzip, cached
for good) with the manifest written atomically.

Django's ``ManifestFilesMixin.save_manifest`` deletes ``staticfiles.json`` and then writes the new
one. A gunicorn worker that starts in between (``max_requests`` recycles them all the time) finds
no manifest, and every page that names a static file answers 500. That happens when a service
rebuilds the static files of a host where another service still serves (``clinica.arranque``
does it only when the sources changed, i.e. an upgrade). Here the new manifest is written under a
temporary name in the same folder and renamed over the old one: a reader sees the old manifest or
the new one, whole. The hashed files themselves are only ever added (``collectstatic`` without
``--clear``), so both manifests point at files that exist.
"""

import os

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ManifiestoAtomico(CompressedManifestStaticFilesStorage):
    def save_manifest(self):
        definitivo = self.manifest_name
        self.manifest_name = f".{definitivo}.{os.getpid()}.nuevo"
        try:
            super().save_manifest()
            os.replace(self.manifest_storage.path(self.manifest_name), self.manifest_storage.path(definitivo))
        finally:
            self.manifest_name = definitivo
