#!/bin/sh
# Publish a built site to the web server atomically.
#
#   deploy/publish.sh public deploy@odkb-csto.org:/srv/csto-site   # over ssh
#   deploy/publish.sh public /srv/csto-site                        # on this machine
#
# The server folder BASE holds one folder per publish and a symlink nginx serves:
#
#   BASE/releases/20240612T101500Z-3f9a1c2/   a complete copy of public/
#   BASE/current -> releases/20240612T101500Z-3f9a1c2
#
# 1. rsync copies public/ into BASE/releases/.partial-<name>-<pid>, a folder of
#    this run's own, renamed to the release folder only once the copy is
#    complete: an interrupted copy is never taken for a release (nor counted
#    toward KEEP), and the next run removes it. A run killed outright (kill -9)
#    leaves its rsync running: the next run neither waits for it nor fails
#    because of it, and removes its folder then, or in a later run once that
#    rsync has stopped writing into it.
#    Files whose content did not change become hard links into
#    the current release (--link-dest), so a publish sends and stores only
#    what changed, and unchanged pages keep their Last-Modified and ETag
#    (readers' caches stay valid).
# 2. `current` is switched to the new release with one rename(2): every
#    request sees the whole old site or the whole new one, never a mix.
# 3. nginx checks its configuration, which includes the new release's
#    nginx-redirects.conf; if it refuses it, `current` is switched back and
#    the publish fails. Otherwise nginx reloads to pick up new redirects.
# 4. The newest KEEP releases are kept (older ones are removed), so rolling
#    back is, in BASE, `ln -sfn releases/<older> current.new && mv -T
#    current.new current`, then `nginx -t && systemctl reload nginx` (nginx
#    keeps the redirects of the release it loaded until it reloads).
#
# Environment (all optional):
#   RELEASE       name of the release folder (default: UTC time, sortable)
#   KEEP          how many releases to keep (default: 5)
#   NGINX_TEST    command that checks nginx's configuration on the server
#                 (default: sudo -n nginx -t -q)
#   NGINX_RELOAD  command that reloads nginx on the server
#                 (default: sudo -n systemctl reload nginx)
#   SSH           ssh command for a remote BASE (default: ssh)
#   SKIP_UNCHANGED  1: publish nothing when PUBLIC_DIR is what BASE/current
#                 already serves, byte for byte (for builds on a schedule:
#                 no new release pushes an older one out of KEEP)
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 PUBLIC_DIR [USER@HOST:]BASE_DIR" >&2
    exit 2
fi
public=${1%/}
target=$2
release=${RELEASE:-$(date -u +%Y%m%dT%H%M%SZ)}
keep=${KEEP:-5}
nginx_test=${NGINX_TEST:-sudo -n nginx -t -q}
nginx_reload=${NGINX_RELOAD:-sudo -n systemctl reload nginx}
ssh=${SSH:-ssh}

if [ ! -f "$public/index.html" ]; then
    echo "$0: $public/index.html is missing: build the site first" >&2
    exit 1
fi
case $release in
    */* | .* | "") echo "$0: RELEASE must be a plain folder name" >&2; exit 2 ;;
esac

case $target in
    *:*) host=${target%%:*}; base=${target#*:} ;;
    *) host=; base=$target ;;
esac

# Quote a value for the server's shell.
quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# Run a script read from standard input with sh, here or on the server.
on_server() {
    if [ -n "$host" ]; then
        $ssh "$host" sh -s
    else
        sh -s
    fi
}

# Copy PUBLIC_DIR/ to a destination as a publish does: by content, with the modes nginx serves. A check of
# what a publish would change uses the same options, so that "nothing" means nothing.
copy() {
    rsync --recursive --links --perms --chmod=D755,F644 --checksum --delete -e "$ssh" "$@"
}

if [ "${SKIP_UNCHANGED:-}" = 1 ]; then
    served="$base/current/"
    if [ -n "$host" ]; then
        served="$host:$served"
    fi
    # What a publish would change, by content: nothing at all, and there is nothing to publish. No
    # current release, or any other failure of the comparison, publishes as usual.
    if changes=$(copy --dry-run --itemize-changes "$public/" "$served" 2>/dev/null) && [ -z "$changes" ]; then
        echo "$public is what $base/current serves: nothing published"
        exit 0
    fi
fi

# A release folder is written once: never into the one being served. The copy goes into a partial
# folder of this run's own first (an rsync left running by a run killed outright writes into its
# own); those interrupted runs left behind are removed, or left for a later run while still written.
partial=".partial-$release-$$"
{
    printf 'set -eu\nbase=%s release=%s partial=%s\n' "$(quote "$base")" "$(quote "$release")" "$(quote "$partial")"
    cat <<'SERVER'
mkdir -p "$base/releases"
cd "$base/releases"
if [ -e "$release" ]; then
    echo "release $release: File exists (choose another RELEASE)" >&2
    exit 1
fi
for left in .partial-*; do
    if [ -e "$left" ] && ! reason=$(rm -rf "$left" 2>&1); then
        echo "$base/releases/$left: not removed: $(printf '%s\n' "$reason" | head -n 1) (left by an interrupted" \
            "publish whose copy may still be running: this publish goes on, and a later one removes it)" >&2
    fi
done
mkdir "$partial"
SERVER
} | on_server

# --checksum compares content, not times (every build writes fresh files);
# without -t the copies carry the time of their first publish.
dest="$base/releases/$partial/"
if [ -n "$host" ]; then
    dest="$host:$dest"
fi
# On the first publish there is no current release to link to: rsync says so and copies everything.
copy --link-dest=../../current/ "$public/" "$dest"

{
    printf 'base=%s release=%s partial=%s keep=%s nginx_test=%s nginx_reload=%s\n' \
        "$(quote "$base")" "$(quote "$release")" "$(quote "$partial")" "$(quote "$keep")" \
        "$(quote "$nginx_test")" "$(quote "$nginx_reload")"
    cat <<'SERVER'
set -eu
cd "$base"
mv -T "releases/$partial" "releases/$release"
previous=$(readlink current || true)
switch() {
    ln -sfn "$1" current.new
    mv -T current.new current
}
switch "releases/$release"
if ! sh -c "$nginx_test"; then
    echo "nginx refused the configuration with release $release; switched back" >&2
    if [ -n "$previous" ]; then switch "$previous"; else rm current; fi
    rm -rf "releases/$release"
    exit 1
fi
sh -c "$nginx_reload"
ls -1 releases | sort -r | tail -n "+$((keep + 1))" | while read -r old; do
    if [ "releases/$old" != "releases/$release" ]; then rm -rf "releases/$old"; fi
done
echo "published release $release to $base/current"
SERVER
} | on_server
