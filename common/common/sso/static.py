"""Static file URLs that follow the request's script prefix (the admin behind the gateway).

Django prefixes a relative ``STATIC_URL`` with the script prefix only once per process (the
setting is cached on first read, and the storage caches its base URL), but one process
serves its admin both at its own ``/admin/`` and under the gateway's ``/admin/<service>/``.
So ``STATIC_URL`` stays ``/static/`` and this storage puts the current prefix in front on
every ``url()``: ``/admin/contact/static/admin/css/base.css`` through the gateway, which
forwards it as ``/static/...`` to the service's WhiteNoise.
"""

from django.contrib.staticfiles.storage import StaticFilesStorage
from django.urls import get_script_prefix


class ScriptPrefixStaticFilesStorage(StaticFilesStorage):
    def url(self, name):
        return get_script_prefix().rstrip("/") + super().url(name)
