# The two commands are `make run` and `make test`; the rest are conveniences.
.PHONY: run test install manage fmt lint bench-gateway bench-slow-clients bench-events bench-memory bench-service-workers bench-inventory clean

run:
	@scripts/bootstrap.sh
	@.venv/bin/python scripts/run.py

# Every suite, five at a time, then the migrations check and ruff. One suite on its own, in seconds:
#   make test SERVICE=sales   (auth, contact, inventory, sales, purchase, gateway, common, platform)
# (needs only PostgreSQL and RabbitMQ running; scripts/test.sh says more).
test:
	@SERVICE="$(SERVICE)" scripts/test.sh

install:
	@scripts/bootstrap.sh

# Any service's manage.py command with the local run's environment (data dir, secrets, keys):
#   make manage SERVICE=contact CMD="outbox_status --json"
#   make manage SERVICE=auth CMD="celery inspect ping"   (Celery's command line on the service's app, docs/jobs.md)
manage: install
	@.venv/bin/python scripts/run.py manage "$(SERVICE)" $(CMD)

fmt: install
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

lint: install
	.venv/bin/ruff check .

clean:
	rm -rf .run

bench-gateway: install
	@bench/gateway.sh

bench-slow-clients: install
	@.venv/bin/python bench/slow_clients.py

bench-events: install
	@bench/events.sh

bench-inventory: install
	@bench/inventory_events.sh

bench-service-workers: install
	@.venv/bin/python bench/service_workers.py

# Its own .PHONY line: other helpers add bench targets to the list above.
.PHONY: bench-orders
bench-orders: install
	@bench/orders.sh

bench-memory: install
	@.venv/bin/python bench/local_run_memory.py

# The original implementation's Postman collection, by newman, against a fresh local run (docs/compatibility.md).
.PHONY: compat
compat: install
	@mkdir -p .run && cd tests && ../.venv/bin/pytest -q --basetemp=../.run/compat test_compat.py

# The .env compose.yaml needs: real secrets and a fresh JWT key pair (never replaces an existing one).
.PHONY: env
env: install
	@.venv/bin/python scripts/make_env.py

# Database connections at N worker replicas, with and without the web servers' pool (deploy/k8s/README.md).
.PHONY: bench-db-connections
bench-db-connections: install
	@.venv/bin/python bench/db_connections.py

# Receipt -> stock visible latency (p50/p95) on PostgreSQL and RabbitMQ (docs/performance.md).
.PHONY: bench-receipts
bench-receipts: install
	@bench/receipts.sh

# Backorders: confirm -> stock visible and receipt -> backorder filled, p50/p95 and CPU (docs/performance.md).
.PHONY: bench-backorders
bench-backorders: install
	@bench/backorders.sh

# 100,000 items with opening stock imported from CSV, then exported, on PostgreSQL (docs/performance.md).
.PHONY: bench-imports
bench-imports: install
	@ERP_POSTGRES_URL=$${ERP_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432} .venv/bin/python bench/imports.py

# Replenishment: low-stock event -> replenishment draft line, p50/p95 and CPU (docs/performance.md).
.PHONY: bench-replenishment
bench-replenishment: install
	@bench/replenishment.sh

# The back office's home: GET /admin/ p50/p95 and CPU per render, 100,000 items and orders (docs/performance.md).
.PHONY: bench-home
bench-home: install
	@.venv/bin/python bench/home.py

# The hot-item limit: issues/s, CPU per issue and lock waits, one item vs many, 1/2/4 consumers (docs/performance.md).
.PHONY: bench-hot-item
bench-hot-item: install
	@bench/hot_item.sh --json .run/bench/hot_item.json

# The capacity model: docs/capacity.md's tables recomputed from bench/results/*.json and deploy/k8s.
.PHONY: bench-capacity
bench-capacity: install
	@.venv/bin/python bench/capacity.py --update-doc

# Data at scale: 100,000 items, 1,000,000 movements, 100,000 sales orders; each list read's p50/p95 through the
# gateway, check_stock_ledger and the export (docs/performance.md). ARGS="--keep" keeps the seed, "--reuse" reads it.
.PHONY: bench-scale
bench-scale: install
	@.venv/bin/python bench/scale.py $(ARGS)
