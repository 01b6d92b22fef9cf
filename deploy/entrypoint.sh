#!/bin/sh
# The image's entrypoint, so compose.yaml and deploy/k8s/ name a process, never its command:
#   entrypoint.sh ROLE            runs ROLE's line of deploy/Procfile (web, migrate, relay, consumer,
#                                 worker, beat, jobs, workers, migrated), the same line the local run starts
#   entrypoint.sh health [ROLE]   the probe of that process (the image's HEALTHCHECK, compose
#                                 healthchecks, Kubernetes exec probes): a web server's readiness,
#                                 a worker's heartbeat (manage.py worker_health); ROLE defaults
#                                 to the one this container started
#   entrypoint.sh anything else   runs it as given: docker compose run --rm auth python manage.py ...
set -eu
procfile=${ERP_PROCFILE:-$(dirname "$0")/Procfile}
# Which process this container runs, for `health` without a ROLE (a container-local file).
started=${TMPDIR:-/tmp}/erp-process

command_of() {
  # Only a plain name reaches sed as a pattern; "name:" then any blanks, as honcho reads the line.
  case $1 in '' | *[!a-z-]*) return 0 ;; esac
  sed -n "s/^$1:[[:space:]]*//p" "$procfile"
}

if [ "${1:-}" = health ]; then
  role=${2:-$(cat "$started" 2>/dev/null || echo web)}
  case $role in
    web)
      # Ready = the database answers (contract §1); a 4xx/5xx or no answer within 3 s fails.
      exec python -c 'import os, sys, urllib.request
port = os.environ.get("ERP_BIND", "0.0.0.0:8000").rsplit(":", 1)[1]
path = os.environ.get("ERP_HEALTH_PATH", "/health/ready")
sys.exit(urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3).status != 200)' ;;
    relay | consumer | worker | beat) exec python manage.py worker_health "$role" ;;
    jobs) python manage.py worker_health worker && exec python manage.py worker_health beat ;;
    # The local run's one background process: alive if every loop it runs beats (worker_health).
    workers) exec python manage.py worker_health workers ;;
    migrate | migrated) exit 0 ;;
    *) echo "entrypoint.sh health: unknown process $role" >&2; exit 2 ;;
  esac
fi

role=${1:-web}
command=$(command_of "$role")
if [ -z "$command" ]; then
  exec "$@"
fi
if [ $# -gt 1 ]; then
  echo "entrypoint.sh: $role takes no arguments (its command is in $procfile)" >&2
  exit 2
fi
echo "$role" >"$started" 2>/dev/null || true
exec /bin/sh -c "$command"
