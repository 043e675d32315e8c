#!/bin/bash
# timeout: 30
# The repository stands alone, as a user's clone does: no tracked file refers to the
# development machines' sibling folder, and the package version is the workspace's.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
cd "$PADDOCK_REPO"

# Built from pieces so that this file does not match itself.
sibling="\.\./"'shared'
step "no tracked file refers to the sibling folder ($sibling)"
if git rev-parse --git-dir >/dev/null 2>&1; then
    refs=$(git grep -l -E "$sibling" -- . || true)
else
    refs=$(grep -rlE "$sibling" --exclude-dir=target --exclude-dir=.git . || true)
fi
[ -z "$refs" ] || fail "these files refer to a folder a user's clone does not have: $(echo $refs)"
# the check itself finds such a reference
probe="$TEST_TMP/probe.sh"
printf 'schema=../%s/specs/x.rng\n' shared >"$probe"
grep -qE "$sibling" "$probe" || fail "the pattern does not match a real reference"

step "debian/changelog's version is the workspace version"
workspace=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
package=$(sed -n '1s/^paddock (\([^)]*\)).*/\1/p' debian/changelog)
[ -n "$workspace" ] && [ "$workspace" = "$package" ] ||
    fail "Cargo.toml says '$workspace', debian/changelog '$package'"
step "ok: version $workspace"
