# bench/lib.sh -- what the bench/*.sh scripts share.
# shellcheck shell=bash disable=SC2034  # globals are read by the scripts
#
# Sourced by each bench script:
#
#   . "$(dirname "$0")/lib.sh"
#   b_init validate                   # temporary directory, cleanup at exit
#   b_start token_ttl=600             # PostgreSQL + mdauthd + lighttpd (TLS)
#   b_user_add bench1 'a password'
#   b_wrk mdauthd 8 5 "$B_URL/api/auth/validate" validate "$token"
#   echo "$W_RPS $W_P50 $W_P99"
#
# The stack comes from deploy/stack.sh, as in the integration tests and
# the demo: everything lives in one directory under /tmp, listens on
# 127.0.0.1 or Unix sockets, and is stopped and removed at exit (also on
# failure and on Ctrl-C).
#
# Environment (all optional):
#   MDAUTHD, MDAUTHCTL   the binaries (default: mdauthd, mdauthctl at the top
#                        of the tree, where `make` builds them)
#   MDAUTH_SQL_DIR       the migrations (default: sql/ of the tree); give
#                        the three together to measure another build
#   BENCH_WORKERS        mdauthd workers; also the null responder's workers
#                        and the argon2 processes (default 4)
#   BENCH_SECONDS        length of one measurement (default: per script)
#   BENCH_ROUNDS         measurements per figure; the median of the
#                        rounds' ratios is kept, and their min-max
#                        (default: per script)
#   BENCH_WRK_THREADS    wrk threads (default 1: the load generator shares
#                        the machine with what it measures)
#   BENCH_PG_FSYNC       PostgreSQL fsync and synchronous_commit (default
#                        off: the figures are the daemon's, not the disk's;
#                        bench/login.sh measures both unless this is set)
#   BENCH_LOG_LEVEL      mdauthd log_level (default info, the daemon's own)
#   BENCH_KEEP=1         keep the temporary directory and print where
#   BENCH_SUMMARY        a file each script appends its summary rows to,
#                        tab-separated (bench/run.sh reads it)

set -u

B_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
B_TOP=$(cd "$B_SRC/.." && pwd)

# shellcheck source=deploy/stack.sh
. "$B_TOP/deploy/stack.sh"

: "${MDAUTHD:=$B_TOP/mdauthd}"
: "${MDAUTHCTL:=$B_TOP/mdauthctl}"
: "${MDAUTH_SQL_DIR:=$B_TOP/sql}"

B_WORKERS=${BENCH_WORKERS:-4}
B_WRK_THREADS=${BENCH_WRK_THREADS:-1}
B_PG_FSYNC=${BENCH_PG_FSYNC:-off}
B_LOG_LEVEL=${BENCH_LOG_LEVEL:-info}

B_NAME=
B_DIR=
B_URL=
B_STARTED=
B_PIDS=()
declare -A B_WRK_PIDS=()
B_NULL_SOCKET=

b_log() {
    printf '%s: %s\n' "$B_NAME" "$*" >&2
}

b_die() {
    b_log "$*"
    exit 1
}

# b_need COMMAND...: stop with a hint when a tool is missing.
b_need() {
    local cmd
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 ||
            b_die "$cmd not found: run 'sh bench/install-deps.sh' (as root)"
    done
}

# b_posint NAME VALUE: stop unless VALUE is a whole number above 0.
b_posint() {
    case $2 in
    '' | *[!0-9]* | 0) b_die "$1 must be a whole number above 0, not '$2'" ;;
    esac
}

# b_init NAME: check the tools, make the temporary directory, arrange the
# cleanup.
b_init() {
    B_NAME=$1
    b_need wrk cc curl jq psql openssl ss setsid timeout awk
    stack_pg_bindir >/dev/null || b_die "PostgreSQL server (initdb) not found"
    stack_lighttpd_bin >/dev/null || b_die "lighttpd not found"
    [ -x "$MDAUTHD" ] || b_die "$MDAUTHD not built (run make)"
    [ -x "$MDAUTHCTL" ] || b_die "$MDAUTHCTL not built (run make)"
    b_posint BENCH_WORKERS "$B_WORKERS"
    b_posint BENCH_WRK_THREADS "$B_WRK_THREADS"
    B_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mdauth-bench.XXXXXX") ||
        b_die "mktemp failed"
    trap b_teardown EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    B_STARTED=$(date +%s)
}

# The EXIT trap: stop what we started, newest first, then the stack; show
# the logs when something failed; remove the directory.
b_teardown() {
    local rc=$? i f path
    trap - EXIT INT TERM HUP
    # A reader that went away (| head) must not stop the cleanup half-way.
    trap '' PIPE
    for ((i = ${#B_PIDS[@]} - 1; i >= 0; i--)); do
        kill -TERM "${B_PIDS[i]}" 2>/dev/null
    done
    for ((i = ${#B_PIDS[@]} - 1; i >= 0; i--)); do
        b_wait_gone "${B_PIDS[i]}" 10 || kill -KILL "${B_PIDS[i]}" 2>/dev/null
        wait "${B_PIDS[i]}" 2>/dev/null
    done
    stack_stop_all
    if [ -n "$B_DIR" ]; then
        if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ]; then
            for path in "$B_DIR"/mdauthd.log "$B_DIR"/mdauthd-*.log \
                "$B_DIR"/lighttpd-error.log "$B_DIR"/null-responder.log \
                "$B_DIR"/postgresql.log "$B_DIR"/migrate.log; do
                [ -s "$path" ] || continue
                f=${path##*/}
                printf '==== tail of %s\n' "$f" >&2
                tail -n 15 "$path" >&2
            done
        fi
        if [ "${BENCH_KEEP:-0}" = 1 ]; then
            b_log "kept $B_DIR"
        else
            rm -rf "$B_DIR"
        fi
    fi
    exit "$rc"
}

# b_wait_gone PID SECONDS: true once PID has exited.
b_wait_gone() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        stack_proc_gone "$1" && return 0
        sleep 0.1
    done
    stack_proc_gone "$1"
}

# b_bg PID: a background process of ours, stopped at exit.
b_bg() {
    B_PIDS+=("$1")
}

# b_reaped PID: PID has been waited for; its number may now belong to
# another process, so the cleanup must no longer signal it.
b_reaped() {
    local i
    for i in "${!B_PIDS[@]}"; do
        [ "${B_PIDS[i]}" != "$1" ] || unset 'B_PIDS[i]'
    done
    B_PIDS=("${B_PIDS[@]}")
}

# b_build NAME LIBS...: compile bench/NAME.c into the temporary directory.
b_build() {
    local name=$1
    shift
    cc -O2 -Wall -Wextra -o "$B_DIR/$name" "$B_SRC/$name.c" "$@" \
        >"$B_DIR/cc-$name.log" 2>&1 || {
        cat "$B_DIR/cc-$name.log" >&2
        b_die "cannot build $name (libfcgi-dev, libargon2-dev installed?)"
    }
}

# ---------------------------------------------------------------------------
# The stack

# Other FastCGI applications are mounted in the same lighttpd as mdauthd,
# with the same fastcgi.server options (b_mount, before b_start):
# deploy/stack.sh renders the configuration, and this wraps its renderer
# to append one block per mount.
B_MOUNTS=()
eval "b_stack_lighttpd_render_stock() $(declare -f stack_lighttpd_render | sed 1d)"
stack_lighttpd_render() {
    local m prefix socket
    b_stack_lighttpd_render_stock "$@" || return 1
    for m in "${B_MOUNTS[@]}"; do
        prefix=${m%% *} socket=${m#* }
        cat >>"$STACK_DIR/lighttpd.conf" <<EOF

# bench/lib.sh: b_mount $prefix
\$HTTP["url"] =~ "^$prefix(/|\$)" {
    fastcgi.server = (
        "$prefix" => ((
            "socket"      => "$socket",
            "check-local" => "disable",
        )),
    )
}
EOF
    done
}

# b_mount PREFIX SOCKET: mount the FastCGI application that listens on
# SOCKET at PREFIX (/bench-...) in lighttpd; before b_start.  lighttpd
# connects on the first request, so the application may start after it.
b_mount() {
    B_MOUNTS+=("$1 $2")
}

# b_null_start: build and start the null responder with BENCH_WORKERS
# workers (before b_start, so that lighttpd is configured for it).
b_null_start() {
    local i
    b_build null-responder -lfcgi
    B_NULL_SOCKET=$B_DIR/null.sock
    b_mount /bench-null "$B_NULL_SOCKET"
    "$B_DIR/null-responder" "$B_NULL_SOCKET" "$B_WORKERS" 1800 \
        </dev/null >"$B_DIR/null-responder.log" 2>&1 &
    b_bg $!
    for ((i = 0; i < 50; i++)); do
        # Like mdauthd's, in the group of lighttpd's user (www-data as root).
        if [ -S "$B_NULL_SOCKET" ]; then
            chgrp "$(stack_web_group)" "$B_NULL_SOCKET" &&
                chmod 0660 "$B_NULL_SOCKET" && return 0
            b_die "cannot give the null responder's socket to $(stack_web_group)"
        fi
        sleep 0.1
    done
    b_die "the null responder did not start"
}

# b_start [KEY=VALUE...]: PostgreSQL, mdauthd (BENCH_WORKERS workers,
# BENCH_LOG_LEVEL, the given keys) and lighttpd.  B_URL is the HTTPS base.
b_start() {
    STACK_PG_FSYNC=$B_PG_FSYNC
    stack_start_all "$B_DIR" workers="$B_WORKERS" log_level="$B_LOG_LEVEL" \
        "$@" || b_die "the stack did not start"
    B_URL=https://127.0.0.1:$STACK_HTTPS_PORT
}

# b_mdauthd NAME SOCKET [KEY=VALUE...]: after b_start, a second mdauthd on
# the same database: the stack's mdauthd.conf with listen = SOCKET and the
# given keys replaced or added, in $B_DIR/mdauthd-NAME.conf, its log in
# $B_DIR/mdauthd-NAME.log.  Returns once its socket is there and, with the
# cache on, once its listener listens (until then its cache is bypassed).
b_mdauthd() {
    local name=$1 socket=$2 conf=$B_DIR/mdauthd-$1.conf
    local log=$B_DIR/mdauthd-$1.log arg pid i
    shift 2
    cp "$STACK_MDAUTHD_CONF" "$conf" || b_die "cannot write $conf"
    for arg in "listen=$socket" "$@"; do
        if ! awk -v k="${arg%%=*}" -v v="${arg#*=}" '
            index($0, k " = ") == 1 { if (!done) print k " = " v; done = 1; next }
            { print }
            END { if (!done) print k " = " v }' "$conf" >"$conf.tmp" ||
            ! mv "$conf.tmp" "$conf"; then
            b_die "cannot write $conf"
        fi
    done
    rm -f "$socket"
    setsid "$MDAUTHD" -c "$conf" </dev/null >>"$log" 2>&1 &
    pid=$!
    b_bg "$pid"
    for ((i = 0; i < 100; i++)); do
        stack_proc_gone "$pid" && break
        if [ -S "$socket" ]; then
            grep -q '^cache = no$' "$conf" && return 0
            b_listener_up "$log" && return 0
        fi
        sleep 0.1
    done
    tail -n 15 "$log" >&2
    b_die "mdauthd $name did not start (or its cache listener did not listen)"
}

# b_listening: the stack's mdauthd has its cache listener listening (or
# the cache is off).
b_listening() {
    local i
    grep -q '^cache = no$' "$STACK_MDAUTHD_CONF" && return 0
    for ((i = 0; i < 100; i++)); do
        b_listener_up "$STACK_DIR/mdauthd.log" && return 0
        sleep 0.1
    done
    b_die "the cache listener of mdauthd did not listen"
}

# b_listener_up LOG: has the cache listener whose daemon logs to LOG said
# it listens?  Below log_level info it says nothing: then it is up once a
# listener's connection is in pg_stat_activity, and a second later (it
# LISTENs, flushes and enables the cache right after connecting).
b_listener_up() {
    grep -q 'cache: listening for changes' "$1" && return 0
    case $B_LOG_LEVEL in
    debug | info) return 1 ;;
    esac
    [ "$(b_sql "SELECT count(*) FROM pg_stat_activity
        WHERE application_name = 'mdauthd listener'")" -gt 0 ] 2>/dev/null ||
        return 1
    sleep 1
}

# b_pg_fsync on|off: PostgreSQL's fsync and synchronous_commit, changed on
# the running server (ALTER SYSTEM, a reload: both take effect without a
# restart, in the daemon's open sessions too), then a CHECKPOINT so that
# the next figure does not pay for the previous one's dirty pages.
b_pg_fsync() {
    case $1 in
    on | off) ;;
    *) b_die "fsync must be on or off, not '$1'" ;;
    esac
    b_sql "ALTER SYSTEM SET fsync = $1;
ALTER SYSTEM SET synchronous_commit = $1;
SELECT pg_reload_conf();" >/dev/null || b_die "cannot set fsync = $1"
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(b_sql 'SHOW fsync')" = "$1" ] &&
            [ "$(b_sql 'SHOW synchronous_commit')" = "$1" ] && break
        sleep 0.1
    done
    [ "$(b_sql 'SHOW fsync')" = "$1" ] || b_die "PostgreSQL did not take fsync = $1"
    b_sql CHECKPOINT >/dev/null || b_die "CHECKPOINT failed"
    B_PG_FSYNC=$1
}

# b_user_add NAME PASSWORD
b_user_add() {
    printf '%s\n' "$2" | "$MDAUTHCTL" -c "$STACK_MDAUTHD_CONF" \
        -D "$(stack_admin_conninfo)" user add "$1" --password-stdin \
        >>"$B_DIR/mdauthctl.log" 2>&1 || b_die "cannot create user $1"
}

# b_login USER PASSWORD: print a fresh token.
b_login() {
    local token
    token=$(jq -cn --arg u "$1" --arg p "$2" '{username: $u, password: $p}' |
        curl -sS --max-time 10 --cacert "$STACK_CERT" \
            --resolve "localhost:$STACK_HTTPS_PORT:127.0.0.1" \
            -H 'Content-Type: application/json' --data-binary @- \
            "https://localhost:$STACK_HTTPS_PORT/api/auth/login" |
        jq -r '.token // empty')
    [ -n "$token" ] || b_die "login as $1 failed"
    printf '%s\n' "$token"
}

# b_sql QUERY: run QUERY as the database superuser.
b_sql() {
    stack_psql <<<"$1"
}

# ---------------------------------------------------------------------------
# Measuring

# b_wrk LABEL CONNECTIONS SECONDS URL MODE ARGS...: one wrk run with
# wrk-auth.lua (MODE validate TOKEN, or login PREFIX N PASSWORD).  Sets
# W_REQUESTS, W_RPS, W_P50, W_P99 (ms), W_ERRORS (socket errors and
# timeouts), W_STATUSES (200:N,503:M...).
b_wrk() {
    b_wrk_start "$@" && b_wrk_finish "$1"
}

# b_wrk_start: the same in the background; b_wrk_finish LABEL waits for it.
b_wrk_start() {
    local label=$1 conns=$2 secs=$3 url=$4 threads=$B_WRK_THREADS
    shift 4
    [ "$threads" -le "$conns" ] || threads=$conns
    timeout -k 5 $((secs + 30)) wrk -t "$threads" -c "$conns" -d "${secs}s" \
        --timeout 10s -s "$B_SRC/wrk-auth.lua" "$url" -- "$@" \
        >"$B_DIR/wrk-$label.out" 2>&1 &
    B_WRK_PIDS[$label]=$!
    b_bg $!
}

b_wrk_finish() {
    local label=$1 line kv rc=0
    wait "${B_WRK_PIDS[$label]}" || rc=$?
    b_reaped "${B_WRK_PIDS[$label]}"
    if [ "$rc" -ne 0 ]; then
        cat "$B_DIR/wrk-$label.out" >&2
        b_die "wrk ($label) failed"
    fi
    line=$(grep '^wrk-auth:' "$B_DIR/wrk-$label.out") || {
        cat "$B_DIR/wrk-$label.out" >&2
        b_die "wrk ($label) printed no summary"
    }
    W_REQUESTS=0 W_SECONDS=1 W_P50=0 W_P99=0 W_ERRORS=0 W_STATUSES=
    for kv in ${line#wrk-auth: }; do
        case $kv in
        requests=*) W_REQUESTS=${kv#*=} ;;
        seconds=*) W_SECONDS=${kv#*=} ;;
        p50_ms=*) W_P50=${kv#*=} ;;
        p99_ms=*) W_P99=${kv#*=} ;;
        errors=*) W_ERRORS=${kv#*=} ;;
        statuses=*) W_STATUSES=${kv#*=} ;;
        esac
    done
    W_RPS=$(b_div "$W_REQUESTS" "$W_SECONDS" 1)
}

# b_status_count STATUS: how many answers of the last b_wrk had STATUS.
b_status_count() {
    printf '%s\n' "$W_STATUSES" | tr ',' '\n' |
        awk -F: -v s="$1" '$1 == s { n += $2 } END { print n + 0 }'
}

# b_status_other STATUS...: how many answers had none of these statuses.
b_status_other() {
    printf '%s\n' "$W_STATUSES" | tr ',' '\n' |
        awk -F: -v want=" $* " 'NF == 2 && index(want, " " $1 " ") == 0 { n += $2 } END { print n + 0 }'
}

# b_div A B DECIMALS: A / B; "n/a" when B is zero or either is not a number.
b_div() {
    awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN {
        num = "^-?[0-9]+([.][0-9]*)?$"
        if (a !~ num || b !~ num || b + 0 == 0) print "n/a"
        else printf("%." d "f\n", a / b) }'
}

# b_median DECIMALS VALUE...: the median (the mean of the two middle values
# when the count is even), rounded; "n/a" among the values is left out.
b_median() {
    local d=$1
    shift
    printf '%s\n' "$@" | grep -v '^n/a$' | sort -g |
        awk -v d="$d" '{ v[NR] = $1 } END {
            if (NR == 0) { print "n/a"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf("%." d "f\n", m) }'
}

# b_spread DECIMALS VALUE...: "min..max" of the values, rounded; "n/a"
# among them is left out.
b_spread() {
    local d=$1
    shift
    printf '%s\n' "$@" | grep -v '^n/a$' | sort -g |
        awk -v d="$d" 'NR == 1 { lo = $1 } { hi = $1 } END {
            if (NR == 0) print "n/a"
            else printf("%." d "f..%." d "f\n", lo, hi) }'
}

# b_percentile P DECIMALS VALUE...: the P-th percentile (nearest rank: the
# smallest value with at least P% of the values at or below it).
b_percentile() {
    local p=$1 d=$2
    shift 2
    printf '%s\n' "$@" | grep -v '^n/a$' | sort -g |
        awk -v p="$p" -v d="$d" '{ v[NR] = $1 } END {
            if (NR == 0) { print "n/a"; exit }
            k = p * NR / 100; r = int(k); if (r < k) r++; if (r < 1) r = 1
            printf("%." d "f\n", v[r]) }'
}

# b_pct PART WHOLE: PART as a percentage of WHOLE, one decimal.
b_pct() {
    local r
    r=$(b_div "$1" "$2" 6)
    if [ "$r" = n/a ]; then
        echo n/a
    else
        awk -v r="$r" 'BEGIN { printf("%.1f\n", 100 * r) }'
    fi
}

# ---------------------------------------------------------------------------
# Reporting

# b_describe LINE...: what ran, with which versions and parameters.
b_describe() {
    local pgver line
    pgver=$("$(stack_pg_bindir)/postgres" -V 2>/dev/null | sed 's/^postgres (PostgreSQL) //')
    printf '== mdauth bench: %s, %s\n' "$B_NAME" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '   machine: %s CPUs (%s), Linux %s, load average %s\n' \
        "$(nproc)" \
        "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
        "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf '   software: %s (%s); %s; PostgreSQL %s (fsync %s); %s; %s\n' \
        "$("$MDAUTHD" -V 2>&1)" "$MDAUTHD" \
        "$("$(stack_lighttpd_bin)" -v 2>&1 | sed 's/ - .*//')" \
        "$pgver" "$B_PG_FSYNC" "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)" \
        "$(openssl version | cut -d' ' -f1-2)"
    printf '   libraries: libargon2 %s, libfcgi %s\n' \
        "$(dpkg-query -W -f='${Version}' libargon2-1 2>/dev/null || echo '?')" \
        "$(dpkg-query -W -f='${Version}' libfcgi0ldbl 2>/dev/null || echo '?')"
    printf '   mdauthd: workers=%s log_level=%s %s\n' "$B_WORKERS" \
        "$B_LOG_LEVEL" "$(b_conf_keys)"
    for line in "$@"; do
        printf '   %s\n' "$line"
    done
}

# b_conf_keys: the keys of mdauthd.conf other than the stack's plumbing.
b_conf_keys() {
    awk -F' = ' '/^[a-z_]+ = / && $1 !~ /^(listen|database|workers|log_level|db_timeout|realm|require_tls)$/ {
        printf "%s%s=%s", sep, $1, $2; sep = " " }' "$STACK_MDAUTHD_CONF"
}

# b_conf_cache CONF: the cache's keys in CONF (an mdauthd.conf), each
# KEY=VALUE, with the default of deploy/mdauth.conf (its commented line)
# for a key CONF does not set.
b_conf_cache() {
    local key v out=
    for key in cache cache_entries cache_max_age touch_interval; do
        v=$(sed -n "s/^$key = //p" "$1" | tail -n 1)
        [ -n "$v" ] || v="$(sed -n "s/^#$key = //p" "$B_TOP/deploy/mdauth.conf" |
            head -n 1) (default)"
        out="$out${out:+ }$key=$v"
    done
    printf '%s\n' "$out"
}

# b_hash_params USER: m=.. t=.. p=.. of USER's stored hash.
b_hash_params() {
    # shellcheck disable=SC2016  # the $ are the PHC string's
    b_sql "SELECT password_hash FROM mdauth.users WHERE username = '$1'" |
        sed -n 's/^\$argon2id\$v=19\$m=\([0-9]*\),t=\([0-9]*\),p=\([0-9]*\)\$.*/m=\1 KiB, t=\2, p=\3/p'
}

# b_summary FIGURE MEASURED REFERENCE RATIO [SPREAD [GOAL]]: one row for
# bench/run.sh: the figure's median, the reference's median (measured in
# the same run), the median of the rounds' ratios, their min..max, and the
# goal the ratio is read against ("-" when not given).
b_summary() {
    [ -n "${BENCH_SUMMARY:-}" ] || return 0
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$B_NAME" "$1" "$2" "$3" "$4" \
        "${5:--}" "${6:--}" >>"$BENCH_SUMMARY"
}

# b_elapsed: seconds since b_init.
b_elapsed() {
    echo $(($(date +%s) - B_STARTED))
}
