#!/usr/bin/env bash
# Starts an Xvfb X server for deskpod's x11 backend, for operators and for tests, and waits until
# it answers. Prints DISPLAY=:N on stdout and writes the Xvfb pid to a pid file.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/xvfb-start.sh [options]

Starts Xvfb (virtual X server) in the background with production options
(-nolisten tcp, MIT-SHM and RANDR enabled, -noreset, 24-bit screen), waits until
it answers (xdpyinfo), then prints "DISPLAY=:N" on stdout and exits 0.
The wlroots x11 backend needs MIT-SHM: it is never disabled here.

Options (environment variable in brackets):
  --display N|auto   display number; "auto" lets Xvfb pick a free one  [DISPLAY_NUM, default 99]
  --size WxH[x24]    screen size, optionally with the depth (only 24) [RESOLUTION, default 1920x1080]
  --pid-file FILE    where to write Xvfb's pid   [XVFB_PID_FILE, default /tmp/deskpod-xvfb-N.pid]
  --log-file FILE    Xvfb's own output           [XVFB_LOG_FILE, default /tmp/deskpod-xvfb-N.log]
  --auth FILE        create an MIT-MAGIC-COOKIE in FILE and require it (export XAUTHORITY=FILE)
                     [XVFB_AUTH, default: no authorization, only local clients can connect anyway]
  --timeout SECONDS  how long to wait for the server to answer        [XVFB_TIMEOUT, default 15]
  --foreground       after startup, stay attached: wait for Xvfb and stop it on SIGTERM/SIGINT
  -h, --help         show this help

Exit status: 0 when the server answers; 1 when it did not start (the reason is printed:
display in use, stale lock file, Xvfb error output); 2 for invalid arguments.

Examples:
  eval "$(scripts/xvfb-start.sh)" && export DISPLAY     # DISPLAY=:99, 1920x1080
  DISPLAY_NUM=auto RESOLUTION=1280x800 scripts/xvfb-start.sh --pid-file /tmp/x.pid
  RESOLUTION=1920x1080x24 scripts/xvfb-start.sh --display 98    # the WxHxDEPTH form works too
  kill "$(cat /tmp/deskpod-xvfb-99.pid)"                 # stop it
EOF
}

die() {
  echo "xvfb-start: $*" >&2
  exit 1
}
bad_arg() {
  echo "xvfb-start: $*" >&2
  echo "Try 'scripts/xvfb-start.sh --help'." >&2
  exit 2
}

display_num="${DISPLAY_NUM:-99}"
resolution="${RESOLUTION:-1920x1080}"
pid_file="${XVFB_PID_FILE:-}"
log_file="${XVFB_LOG_FILE:-}"
auth_file="${XVFB_AUTH:-}"
timeout_s="${XVFB_TIMEOUT:-15}"
foreground=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --display) [[ $# -ge 2 ]] || bad_arg "--display needs a value"; display_num="$2"; shift 2 ;;
    --display=*) display_num="${1#*=}"; shift ;;
    --size) [[ $# -ge 2 ]] || bad_arg "--size needs a value"; resolution="$2"; shift 2 ;;
    --size=*) resolution="${1#*=}"; shift ;;
    --pid-file) [[ $# -ge 2 ]] || bad_arg "--pid-file needs a value"; pid_file="$2"; shift 2 ;;
    --pid-file=*) pid_file="${1#*=}"; shift ;;
    --log-file) [[ $# -ge 2 ]] || bad_arg "--log-file needs a value"; log_file="$2"; shift 2 ;;
    --log-file=*) log_file="${1#*=}"; shift ;;
    --auth) [[ $# -ge 2 ]] || bad_arg "--auth needs a value"; auth_file="$2"; shift 2 ;;
    --auth=*) auth_file="${1#*=}"; shift ;;
    --timeout) [[ $# -ge 2 ]] || bad_arg "--timeout needs a value"; timeout_s="$2"; shift 2 ;;
    --timeout=*) timeout_s="${1#*=}"; shift ;;
    --foreground) foreground=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) bad_arg "unknown argument: $1" ;;
  esac
done

display_num="${display_num#:}"
[[ "$display_num" == auto || "$display_num" =~ ^[0-9]+$ ]] \
  || bad_arg "--display must be a number or 'auto' (got '$display_num')"
# WIDTHxHEIGHT or WIDTHxHEIGHTxDEPTH (the form of most Xvfb guides). The depth can only be 24:
# the wlroots x11 backend renders XRGB8888 and needs a 24-bit TrueColor visual.
if [[ "$resolution" =~ ^([1-9][0-9]*x[1-9][0-9]*)(x([0-9]+))?$ ]]; then
  depth="${BASH_REMATCH[3]:-24}"
  [[ "$depth" == 24 ]] \
    || bad_arg "unsupported depth $depth in --size/RESOLUTION '$resolution': accepted forms are WIDTHxHEIGHT (e.g. 1920x1080) and WIDTHxHEIGHTx24 (e.g. 1920x1080x24); deskpod's x11 backend needs a 24-bit screen"
  resolution="${BASH_REMATCH[1]}"
else
  bad_arg "--size/RESOLUTION must be WIDTHxHEIGHT or WIDTHxHEIGHTx24, e.g. 1920x1080 or 1920x1080x24 (got '$resolution')"
fi
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || bad_arg "--timeout must be a whole number of seconds"
command -v Xvfb >/dev/null || die "Xvfb is not installed (Debian package: xvfb)"
command -v xdpyinfo >/dev/null || die "xdpyinfo is not installed (Debian package: x11-utils)"

# A fixed display that is already taken fails with a clear reason instead of Xvfb's own
# "Server is already active for display" buried in its log.
if [[ "$display_num" != auto ]]; then
  lock="/tmp/.X${display_num}-lock"
  if [[ -e "$lock" ]]; then
    owner="$(tr -d ' \n' <"$lock" 2>/dev/null || true)"
    if [[ -n "$owner" ]] && kill -0 "$owner" 2>/dev/null; then
      die "display :$display_num is in use (lock file $lock belongs to running pid $owner); pick another with --display N or DISPLAY_NUM=auto"
    elif [[ -n "$owner" ]] && [[ -d "/proc/$owner" ]]; then
      die "display :$display_num is in use (lock file $lock belongs to pid $owner of another user)"
    else
      echo "xvfb-start: removing stale lock file $lock (pid '${owner}' is gone)" >&2
      rm -f "$lock" "/tmp/.X11-unix/X${display_num}" \
        || die "cannot remove stale lock file $lock"
    fi
  elif [[ -S "/tmp/.X11-unix/X${display_num}" ]] && xdpyinfo -display ":$display_num" >/dev/null 2>&1; then
    die "display :$display_num is in use (an X server answers on /tmp/.X11-unix/X${display_num})"
  fi
fi

tag="$display_num"
[[ "$tag" == auto ]] && tag="auto-$$"
: "${log_file:=/tmp/deskpod-xvfb-${tag}.log}"
displayfd_file="$(mktemp "${TMPDIR:-/tmp}/xvfb-displayfd.XXXXXX")"
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup_tmp() { rm -f "$displayfd_file"; }
trap cleanup_tmp EXIT

args=(-screen 0 "${resolution}x24" -nolisten tcp +extension RANDR +extension MIT-SHM -noreset)
if [[ -n "$auth_file" ]]; then
  command -v xauth >/dev/null || die "--auth needs xauth (Debian package: xauth)"
  command -v mcookie >/dev/null || die "--auth needs mcookie (Debian package: util-linux)"
  (umask 077 && : >"$auth_file") || die "cannot write auth file $auth_file"
  cookie="$(mcookie)"
  # Xvfb loads every cookie in the file once at startup (it never resets here), whatever display
  # it is filed under; clients look it up by display, so it is filed again once the number is known.
  XAUTHORITY="$auth_file" xauth -q add ":${display_num/auto/65535}" . "$cookie" \
    || die "cannot write a cookie into $auth_file"
  args+=(-auth "$auth_file")
fi
if [[ "$display_num" == auto ]]; then
  # Xvfb binds the first free display number itself (race-free) and reports it on fd 3.
  args+=(-displayfd 3)
else
  # A fixed display keeps Xvfb's usual /tmp/.X<N>-lock file, which -displayfd would skip.
  args=(":$display_num" "${args[@]}")
fi

# setsid: Xvfb must outlive this script and not receive the caller's terminal signals.
setsid Xvfb "${args[@]}" 3>"$displayfd_file" >"$log_file" 2>&1 </dev/null &
xvfb_pid=$!

deadline=$((SECONDS + timeout_s))
num=""
[[ "$display_num" == auto ]] || num="$display_num"
while :; do
  if ! kill -0 "$xvfb_pid" 2>/dev/null; then
    echo "xvfb-start: Xvfb exited during startup; its output ($log_file):" >&2
    sed 's/^/  /' "$log_file" >&2 || true
    if grep -q "already active" "$log_file" 2>/dev/null; then
      die "display :$display_num is in use"
    fi
    die "Xvfb failed to start"
  fi
  if [[ -z "$num" ]]; then
    # Xvfb writes the number followed by a newline; a number without it may be partial.
    if [[ $(wc -l <"$displayfd_file") -ge 1 ]]; then
      num="$(tr -dc '0-9' <"$displayfd_file")"
    fi
  fi
  if [[ -n "$num" ]]; then
    if [[ -n "$auth_file" && "$display_num" == auto ]]; then
      XAUTHORITY="$auth_file" xauth -q add ":$num" . "$cookie"
      XAUTHORITY="$auth_file" xauth -q remove ":65535"
      display_num="$num"
    fi
    if XAUTHORITY="${auth_file:-${XAUTHORITY:-}}" xdpyinfo -display ":$num" >/dev/null 2>&1; then
      break
    fi
  fi
  if ((SECONDS >= deadline)); then
    kill "$xvfb_pid" 2>/dev/null || true
    echo "xvfb-start: Xvfb output ($log_file):" >&2
    sed 's/^/  /' "$log_file" >&2 || true
    die "Xvfb (pid $xvfb_pid) did not answer on display :${num:-$display_num} within ${timeout_s}s"
  fi
  sleep 0.1
done

: "${pid_file:=/tmp/deskpod-xvfb-${num}.pid}"
echo "$xvfb_pid" >"$pid_file" || die "cannot write pid file $pid_file"
echo "xvfb-start: Xvfb pid $xvfb_pid serving :$num (${resolution}x24), pid file $pid_file, log $log_file" >&2
echo "DISPLAY=:$num"
[[ -n "$auth_file" ]] && echo "XAUTHORITY=$auth_file"

if ((foreground)); then
  # shellcheck disable=SC2317  # invoked by the TERM/INT trap
  stop() { kill "$xvfb_pid" 2>/dev/null || true; }
  trap stop TERM INT
  wait "$xvfb_pid" || true
  rm -f "$pid_file"
fi
exit 0
