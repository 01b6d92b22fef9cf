# The two commands are `make run` and `make test`; the rest are conveniences.
.PHONY: run test install fmt lint bench-gateway bench-events bench-memory bench-service-workers bench-inventory clean

run:
	@scripts/bootstrap.sh
	@.venv/bin/python scripts/run.py

test:
	@scripts/test.sh

install:
	@scripts/bootstrap.sh

fmt: install
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

lint: install
	.venv/bin/ruff check .

clean:
	rm -rf .run

bench-gateway: install
	@bench/gateway.sh

bench-events: install
	@bench/events.sh

bench-inventory: install
	@bench/inventory_events.sh

bench-service-workers: install
	@.venv/bin/python bench/service_workers.py

bench-memory: install
	@.venv/bin/python bench/local_run_memory.py
