"""kombu's filesystem transport (the embedded default's broker), with every message file written whole.

kombu's ``Channel._put`` creates the message file under its final name and then writes it,
while a reader (``_get``) takes any file of its queue's name: moves it, reads it and removes
it before decoding. A reader that comes between the two gets an empty payload, fails to
decode it, and the message is gone (the platform tests saw a receipt and a cancel's
give-back lost so). Here the file is written under a name no reader takes
(``<name>.part``: a reader matches the suffix ``<queue>.msg``) and renamed once whole; a
rename within one folder is atomic. :mod:`common.events.broker` registers this transport
under the ``filesystem`` scheme, for every kombu connection of the process (Celery's too).
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

PARTIAL = ".part"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` onto ``queue``: written under a name no reader takes, then renamed whole."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"  # kombu's, so the order holds
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
