"""The filesystem transport writes each message file whole (common/events/filesystem.py)."""

from __future__ import annotations

import os

from kombu import Connection, Exchange, Producer, Queue

from common.events import broker  # noqa: F401 (registers the transport under "filesystem")
from common.events.filesystem import PARTIAL, Transport
from common.settings.env import filesystem_broker_folders, filesystem_broker_options


def test_a_message_file_is_renamed_into_its_queue_only_once_written_whole(tmp_path, monkeypatch):
    # given: the filesystem broker the embedded default uses
    options = filesystem_broker_options(tmp_path / "broker")
    for folder in filesystem_broker_folders(options):
        folder.mkdir(parents=True, exist_ok=True)
    seen_while_writing = []
    replace = os.replace

    def replace_watching(source, target):  # what a reader would list at the moment before the rename
        seen_while_writing.append(sorted(os.listdir(os.path.dirname(target))))
        replace(source, target)

    monkeypatch.setattr(os, "replace", replace_watching)
    with Connection("filesystem://", transport_options=options) as conn:
        assert isinstance(conn.transport, Transport)
        queue = Queue("fs-test", Exchange("fs-test", type="direct"), routing_key="fs-test")
        # when: a message is published
        producer = Producer(conn.default_channel)
        producer.publish({"n": 1}, exchange=queue.exchange, routing_key="fs-test", declare=[queue])
        # then: while written, it bore a name no reader of the queue takes; then it is there whole, and read back
        [listing] = seen_while_writing
        assert [name for name in listing if name.endswith(".fs-test.msg")] == []
        assert [name for name in listing if name.endswith(".fs-test.msg" + PARTIAL)] != []
        message = queue.bind(conn.default_channel).get(no_ack=True)
        assert message.payload == {"n": 1}
