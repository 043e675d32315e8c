#!/bin/bash
# timeout: 300
# The Debian packages as an operator installs them (`make test` installed them with apt-get
# before the system tests): every file from a package at the path Pacemaker searches, listed
# by pcs, described by Pacemaker, a man page for every agent that renders without a warning,
# --version saying the package version, lintian clean; then `apt-get remove` leaves nothing
# of ours behind (and the packages are installed again for whatever runs next).
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
require_cmd dpkg-query dpkg-deb apt-get man lintian xmllint crm_resource
PACKAGES=(paddock-fence-agents paddock-resource-agents paddock-tools)
DEBS=("$PADDOCK_REPO"/target/debian/*.deb)
[ -e "${DEBS[0]}" ] || fail "no packages in $PADDOCK_REPO/target/debian (make deb)"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$PADDOCK_REPO/Cargo.toml" | head -n 1)

step "the packages are installed, at version $version"
for p in "${PACKAGES[@]}"; do
    got=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null)
    [ "$got" = "install ok installed $version" ] || fail "$p: '$got'"
done

FENCE_AGENTS=(/usr/sbin/fence_paddock_ipmi /usr/sbin/fence_paddock_redfish /usr/sbin/fence_paddock_compute)
OCF_AGENTS=(/usr/lib/ocf/resource.d/paddock/vm /usr/lib/ocf/resource.d/paddock/procwatch /usr/lib/ocf/resource.d/paddock/vmwatch /usr/lib/ocf/resource.d/paddock/netwatch /usr/lib/ocf/resource.d/paddock/nova-evacuate)
HELPER=/usr/libexec/paddock/vm-libvirt
step "every binary comes from a package and says its version"
for f in "${FENCE_AGENTS[@]}" "${OCF_AGENTS[@]}" "$HELPER" /usr/sbin/paddock; do
    dpkg-query -S "$f" >/dev/null 2>&1 || fail "$f belongs to no package"
    out=$("$f" --version 2>&1) || fail "$f --version: exit $?: $out"
    [ "$(echo "$out" | awk '{ print $NF }')" = "$version" ] || fail "$f --version says '$out'"
done

step "pcs lists the agents"
list=$(pcs_on stonith list)
for a in fence_paddock_ipmi fence_paddock_redfish fence_paddock_compute; do
    grep -q "^$a " <<<"$list" || fail "pcs stonith list lacks $a: $list"
done
agents=$(pcs_on resource agents ocf:paddock)
[ "$(echo $agents)" = "netwatch nova-evacuate procwatch vm vmwatch" ] || fail "pcs resource agents ocf:paddock: '$agents'"
pcs_on resource describe ocf:paddock:vm | grep -q '^  config (required) (unique group: config):' ||
    fail "pcs resource describe ocf:paddock:vm lacks the required config parameter"
pcs_on stonith describe fence_paddock_ipmi | grep -q '^  ip:' ||
    fail "pcs stonith describe fence_paddock_ipmi lacks ip"

step "man pages: found by man -w, owned by the packages, rendered without warnings, every parameter in them"
page_check() { # SECTION PAGE METADATA-FILE
    local path warnings text name
    path=$(man -w "$1" "$2") || fail "man -w $1 $2 finds nothing"
    dpkg-query -S "$path" >/dev/null 2>&1 || fail "$path belongs to no package"
    # rendered from the installed file: man-db's formatted copy of a page reinstalled at the same
    # version (same changelog date, so the same mtime) would be the old one
    warnings=$(MANWIDTH=80 man --warnings -l "$path" 2>&1 >/dev/null)
    [ -z "$warnings" ] || fail "man $1 $2 warns: $warnings"
    text=$(MANWIDTH=80 man -l "$path" 2>/dev/null)
    [ -n "$3" ] || return 0
    for name in $(xmllint --xpath '//parameter/@name' "$3" | sed 's/ name="\([^"]*\)"/\1\n/g'); do
        grep -qw -- "$name" <<<"$text" || fail "man $1 $2 does not document $name"
    done
}
for a in "${FENCE_AGENTS[@]}"; do
    "$a" -o metadata >"$TEST_TMP/meta.xml"
    page_check 8 "$(basename "$a")" "$TEST_TMP/meta.xml"
done
for a in vm procwatch vmwatch netwatch nova-evacuate; do
    on crm_resource --show-metadata "ocf:paddock:$a" >"$TEST_TMP/meta.xml" ||
        fail "crm_resource --show-metadata ocf:paddock:$a failed"
    grep -q "<resource-agent name=\"$a\"" "$TEST_TMP/meta.xml" || fail "Pacemaker's metadata of $a: $(head -c 300 "$TEST_TMP/meta.xml")"
    page_check 7 "ocf_paddock_$a" "$TEST_TMP/meta.xml"
done
page_check 8 paddock ""
page_check 8 paddock-capacity ""
zcat -f "$(man -w 8 paddock-capacity)" | grep -q 'failures' || fail "man paddock-capacity does not document --failures"
dpkg-query -S /usr/share/bash-completion/completions/paddock >/dev/null 2>&1 || fail "no bash completion for paddock"

step "Depends: computed shared libraries and the Pacemaker tools the agents call"
depends() { dpkg-deb -f "$(ls "$PADDOCK_REPO"/target/debian/"$1"_*.deb)" Depends; }
depends paddock-resource-agents | grep -q 'libvirt0' || fail "resource agents do not depend on libvirt0"
depends paddock-resource-agents | grep -q 'pacemaker-cli-utils' || fail "resource agents do not depend on pacemaker-cli-utils"
depends paddock-fence-agents | grep -q 'libc6' || fail "fence agents lack their computed Depends"
depends paddock-tools | grep -q 'pacemaker-cli-utils' || fail "paddock-tools does not depend on pacemaker-cli-utils"

step "lintian: no errors, no warnings"
report=$(lintian "${DEBS[@]}" 2>/dev/null)
bad=$(grep -E '^(E|W):' <<<"$report" || true)
[ -z "$bad" ] || fail "lintian: $bad"

step "apt-get remove leaves no file of ours"
at_exit "DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${DEBS[*]} </dev/null >/dev/null 2>&1"
files=$(dpkg-query -L "${PACKAGES[@]}" | while read -r f; do [ -f "$f" ] && echo "$f"; done)
[ "$(wc -l <<<"$files")" -ge 10 ] || fail "too few files listed: $files"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -q "${PACKAGES[@]}" </dev/null >"$TEST_TMP/remove.log" 2>&1 ||
    fail "apt-get remove: $(tail -3 "$TEST_TMP/remove.log")"
left=$(for f in $files /usr/lib/ocf/resource.d/paddock /usr/libexec/paddock; do [ -e "$f" ] && echo "$f"; done)
[ -z "$left" ] || fail "left behind: $left"
step "ok: $(wc -l <<<"$files") files removed; reinstalling"
