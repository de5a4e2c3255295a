#!/usr/bin/env bash
# Makes sure the services the tests talk to are up: Redis, PostgreSQL and MariaDB on loopback.
# Starts the Debian-packaged servers when they are installed but stopped; otherwise says how to
# get them (docker compose) and fails.
set -uo pipefail

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
maria_up() { mysqladmin -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; }

wait_for() { # name check
  for _ in $(seq 1 60); do "$2" && return 0; sleep 0.5; done
  echo "services: $1 did not come up on 127.0.0.1" >&2
  return 1
}

start() { # name check start-command...
  local name=$1 check=$2
  shift 2
  "$check" && return 0
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "services: $name is not running and not installed here;" \
      "start one with 'docker compose up -d $name'" >&2
    return 1
  fi
  echo "services: starting $name"
  "$@" >/dev/null 2>&1
  wait_for "$name" "$check"
}

ok=0
start redis redis_up redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' \
  --appendonly no --dir /tmp --logfile /tmp/rekey-redis.log || ok=1
start postgres pg_up pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql 2>/dev/null | head -n 1)" main start || ok=1
start mariadb maria_up start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || ok=1
exit $ok
