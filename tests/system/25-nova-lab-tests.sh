#!/bin/bash
# timeout: 420
# The crates' own tests against the real Nova lab (fence_paddock_compute, nova-evacuate,
# procwatch's Nova link): cargo's stage runs them with PADDOCK_NOVALAB=skip while the lab comes
# up in the background; here they run with the lab ready, and a missing lab is a failure.
# Same cargo flags as tests/run-all.sh's cargo stage, so nothing is built again.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
LAB=$PADDOCK_REPO/tests/lib/novalab.sh
export PATH="$HOME/.cargo/bin:$PATH"
require_cmd cargo

step "the Nova lab"
if ! "$LAB" wait 420; then
    "$LAB" up || fail "the Nova lab does not come up"
    [ "${KEEP_NOVALAB:-0}" = 1 ] || at_exit "\"$LAB\" down >/dev/null 2>&1"
fi

step "cargo test --test novalab (PADDOCK_REQUIRE_NOVALAB=1)"
cd "$PADDOCK_REPO" || fail "no repository"
PADDOCK_REQUIRE_NOVALAB=1 cargo test --workspace --profile tests --no-fail-fast --test novalab \
    > "$TEST_TMP/cargo.log" 2>&1
rc=$?
grep -E "^test |^test result:|panicked" "$TEST_TMP/cargo.log"
[ $rc = 0 ] || { tail -40 "$TEST_TMP/cargo.log"; fail "the lab tests failed (exit $rc)"; }
n=$(awk '/^test result:/ { n += $4 } END { print n + 0 }' "$TEST_TMP/cargo.log")
[ "$n" -ge 10 ] || fail "only $n lab tests ran"
step "ok: $n lab tests"
