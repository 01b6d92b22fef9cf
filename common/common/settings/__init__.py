"""Settings shared by every service, in three modules.

- :mod:`common.settings.base`: plain module-level settings every process shares (the gateway
  star-imports it).
- :mod:`common.settings.service`: ``base`` plus the admin's single sign-on; a service's
  ``config/settings.py`` star-imports it, names itself (``SERVICE_NAME``) and assigns what is
  its own, by name.
- :mod:`common.settings.env`: the functions ``base`` (and a service) read the environment with.

No function writes a settings module's globals: each returns a value that a settings module
assigns to a name (``SSO = sso_settings(SERVICE_NAME)``), so ``grep`` finds every setting.

Importing either has no side effect: nothing is written to the environment or the disk. The
local run makes the data dir, its folders and the RSA key pair (``python -m common.keys``).
"""
