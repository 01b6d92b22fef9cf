"""The file mail backend of the local run, private to its owner: reset tokens are live secrets.

Django's file backend makes its folder and files with the process umask (0755/0644 as a
rule), so anybody on the machine could read the tokens. Here the folder is 0700 and each
file 0600, whatever the umask, and a folder left readable by an earlier run is closed.
"""

from __future__ import annotations

import os

from django.core.mail.backends import filebased


class PrivateFileEmailBackend(filebased.EmailBackend):
    def __init__(self, *args, file_path=None, **kwargs):
        super().__init__(*args, file_path=file_path, **kwargs)
        os.chmod(self.file_path, 0o700)

    def open(self):
        if self.stream is None:
            descriptor = os.open(self._get_filename(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self.stream = os.fdopen(descriptor, "ab")
            return True
        return False
