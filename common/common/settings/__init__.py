"""Settings shared by every service, in two modules.

- :mod:`common.settings.base`: plain module-level settings; a service's ``config/settings.py``
  star-imports it, names itself (``SERVICE_NAME``) and adds what is its own.
- :mod:`common.settings.env`: the functions ``base`` (and a service) read the environment with.

Importing either has no side effect: nothing is written to the environment or the disk. The
local run makes the data dir, its folders and the RSA key pair (``python -m common.keys``).
"""
