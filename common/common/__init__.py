"""The infrastructure every ERP service uses the same way: settings helpers, authentication and
roles, the envelope and its errors, filters, pagination, health, metrics, logs, request ids,
the event bus, the service-to-service HTTP client, idempotency.

Imported by every service, never run on its own. No domain code lives here: the order
mechanics sales and purchase share are the ``order_documents`` package beside it, the test
kit is the ``erp_testkit`` distribution (common/testkit), never installed in an image.

Where the platform meets a third-party library's internals (the one list; each place says
more, and a test pins exactly the behaviour it relies on, so an upgrade that changes it fails):

- ``common.server_errors``: replaces ``gunicorn.util.write_error`` so gunicorn's own refusals
  (a request it cannot parse) answer in the error envelope. Kept: gunicorn has no hook for
  its error pages, and a worker class overriding ``Worker.handle_error`` would copy its
  mapping of parse errors to statuses. Pinned by ``common/tests/test_server_errors.py``.
- ``common.wsgi.WSGIRequest``: overrides Django's private ``_set_content_type_params`` so a
  non-text charset (``charset=zlib``) is ignored instead of a 500. Kept: no public hook runs
  before the query string is decoded. Pinned by ``common/tests/test_wsgi.py``.
- ``common.middleware._read_whole``: a CSV import's body, allowed past
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (which ``HttpRequest.body`` enforces on every path), is read
  through the public ``read()`` and kept in ``_body`` and ``_stream``, as ``body`` keeps it.
  Kept: the setting stays the limit of every other path and of Django's form parsers, and no
  public hook sets a limit per request. Pinned by ``common/tests/test_large_bodies.py``.
- ``scripts/supervision.py`` (the local run, not this package): ``GatheringProcess.run`` is honcho's
  ``Process.run`` with its read loop changed (whole lines in chunks, not one message per line; it
  uses honcho's ``_child_ctor`` and ``_send_message``), and ``ChunkPrinter`` lets honcho's
  ``Printer.write`` format into a buffer. Kept: honcho has no hook for its read loop, and a message per
  line cost 3-4% of the platform's CPU per order under load. Pinned by ``tests/test_run_script.py``.
- Supported hooks instead of patches: chunked bodies are read at the WSGI boundary
  (``common.wsgi.dechunked``) and checked through ``request.body``, not by assigning
  ``request._stream``; the gateway retires idle upstream connections through urllib3's
  ``ConnectionCls`` and the public ``is_connected`` (``proxy.proxy``), not by overriding the
  pool's ``_get_conn``/``_put_conn``; the local run's grace before SIGKILL is a honcho
  ``Manager`` subclass (``scripts/run.py``), not a rewritten ``honcho.manager.KILL_WAIT``.
  What these rely on is pinned too: urllib3 asks ``is_connected`` before reusing a connection
  (``gateway/proxy/tests/test_upstream_idle.py``), honcho's loop sends SIGKILL through the
  public ``Manager.kill`` (``tests/test_run_script.py``), Django reads a chunked body as empty
  (``common/tests/test_wsgi.py``).
"""
