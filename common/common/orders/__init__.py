"""Order documents: what sales and purchase orders share, naming neither.

Only sales_svc and purchase_svc import this sub-package. It holds the mechanics of an
order document with lines, not a domain of its own: abstract models (``models``), line
pricing and exact totals (``lines``), the state-machine mechanics (``machine``),
checking references with the services that own them (``references``), keeping a
party's copied name fresh (``parties``), and the shape of the API (``serializers``,
``filters``, ``views``) and of the admin (``admin``). Each service declares its own
concrete models, transition table, events, handlers and services on top.

It lives in ``common`` (not in a package of its own) because it is the one exception
CONVENTIONS names, it has no dependencies beyond ``common``'s own, and every image and
checkout already installs ``common``; it is not an app (abstract models need none).
"""
