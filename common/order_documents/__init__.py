"""Order documents: the mechanics sales and purchase orders share, naming neither.

Plain classes and functions that sales_svc and purchase_svc call with explicit arguments
(their own models, fields and paths): abstract models (``models``), line pricing and exact
totals (``lines``), the state-machine mechanics (``machine``), checking references with the
services that own them (``references``), writing an order's lines (``documents``),
keeping a party's copied name fresh (``parties``) and the order entry's forms (``forms``).

Never views, serializers, FilterSets, admin or seeding: each service writes its HTTP layer,
admin and seed command out for itself, so following a request stays inside the service plus
this package. What the back office's order entry page holds, the party and the lines searched
in their services, is here as forms (``forms``); the page itself is common's admin mechanics.
Errors are common's domain exceptions (:mod:`common.exceptions`). Not a Django app:
abstract models need none.
"""
