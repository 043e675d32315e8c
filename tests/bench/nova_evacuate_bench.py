"""Fence -> instances evacuated, on the real Nova lab: Paddock (fence_paddock_compute, then the
ocf:paddock:nova-evacuate daemon) side by side with the anchors (Debian's fence_compute, then
fence_evacuate), for 1, 10 and 50 instances on the fake driver.  Run by
tests/bench/nova-evacuate-bench.sh with the lab's python and environment.

Each run: N servers (image with `evacuable=true`, so that fence_evacuate's tag filter and
Paddock's policy both take them all) on compute1; compute1's nova-compute is killed (the host
died); then the clock starts and the fencing is asked for:
  paddock: fence_paddock_compute off (nova-evacuate already running, polling Nova);
  anchor:  fence_compute off, then fence_evacuate off (what a fencing level of both does).
Measured from the outside, the same way for both, by reading Nova's cell database every 0.05 s
(one indexed query; polling the API instead, as an earlier version did, cost the API a
`servers/detail` of every server ten times a second, competing with what is measured):
  accepted = every server has its evacuation migration record (Nova's API writes it before it
             answers the evacuate request);
  active   = every server ACTIVE (vm_state active), no task, on another host.
Then compute1 is restored (nova-compute back, migrations completed, unforced, enabled) and the
servers deleted.
"""
import os
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'lib', 'novalab', 'lib'))
import labctl  # noqa: E402  (the lab's own client helpers)
from labctl import Nova, http, host_of, settled, wait_for  # noqa: E402

HOST = 'compute1'
EVACUABLE_IMAGE = '33333333-4444-5555-6666-777777777777'
ENV = os.environ
LAB = ENV['NOVALAB_SH']
FENCE = ENV.get('PADDOCK_FENCE', '/usr/sbin/fence_paddock_compute')
EVACUATE = ENV.get('PADDOCK_EVACUATE',
                   '/usr/lib/ocf/resource.d/paddock/nova-evacuate')
POLL = 0.05


def log(msg):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


def credentials():
    return {'auth_url': ENV['OS_AUTH_URL'], 'username': ENV['OS_USERNAME'],
            'password': ENV['OS_PASSWORD'], 'project_name': ENV['OS_PROJECT_NAME'],
            'user_domain': ENV['OS_USER_DOMAIN_NAME'],
            'project_domain': ENV['OS_PROJECT_DOMAIN_NAME'], 'endpoint_type': 'public'}


class Daemon(object):
    """ocf:paddock:nova-evacuate started and stopped as Pacemaker would (OCF environment)."""

    def __init__(self, scratch):
        self.env = dict(ENV, OCF_ROOT='/usr/lib/ocf', OCF_RESOURCE_INSTANCE='bench-evacuate',
                        HA_RSCTMP=scratch, OCF_RESKEY_interval='1',
                        OCF_RESKEY_logfile=os.path.join(scratch, 'nova-evacuate.log'))
        for key, value in credentials().items():
            self.env['OCF_RESKEY_' + key] = value
        if ENV.get('PARALLEL'):  # else the agent's default
            self.env['OCF_RESKEY_parallel'] = ENV['PARALLEL']

    def action(self, name):
        done = subprocess.run([EVACUATE, name], env=self.env, capture_output=True,
                              text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError('nova-evacuate %s: exit %d %s' % (
                name, done.returncode, done.stderr.strip()[-300:]))


def fence_paddock():
    lines = ['%s=%s' % kv for kv in credentials().items()]
    lines += ['action=off', 'plug=' + HOST]
    done = subprocess.run([FENCE], input='\n'.join(lines) + '\n', capture_output=True,
                          text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError('fence_paddock_compute off: %s' % done.stderr.strip()[-300:])


def fence_anchor():
    for agent in ('fence_compute', 'fence_evacuate'):
        done = subprocess.run([LAB, 'anchor', agent, 'action=off', 'plug=' + HOST,
                               'no_shared_storage=1'], capture_output=True, text=True,
                              timeout=900)
        if done.returncode != 0:
            raise RuntimeError('%s off: exit %d %s' % (
                agent, done.returncode, (done.stdout + done.stderr).strip()[-300:]))


def boot_all(nova, n, tag):
    """N servers ACTIVE on HOST. A host just enabled again can still be refused by the
    scheduler's ComputeFilter for a moment: a server that went ERROR is deleted and booted again."""
    sids, tries = [], 0
    while len(sids) < n:
        tries += 1
        if tries > 15:
            raise RuntimeError('cannot boot %d servers on %s' % (n, HOST))
        new = []
        for i in range(len(sids), n):
            body = {'server': {'name': '%s-%d' % (tag, i), 'imageRef': EVACUABLE_IMAGE,
                               'flavorRef': '1', 'networks': 'none', 'host': HOST,
                               'metadata': {'tag': tag}}}
            new.append(nova.call('POST', '/servers', body, mv='2.74')['server']['id'])
        wait_for('%d servers booted' % len(new), lambda: all(
            s['status'] in ('ACTIVE', 'ERROR') and not s.get('OS-EXT-STS:task_state')
            for s in mine(nova, new)), 300)
        failed = [s['id'] for s in mine(nova, new) if s['status'] == 'ERROR']
        sids += [sid for sid in new if sid not in failed]
        if failed:
            labctl.delete_servers(nova, failed)
            time.sleep(2)
    return sids


def mine(nova, sids):
    wanted = set(sids)
    return [s for s in nova.call('GET', '/servers/detail?all_tenants=1')['servers']
            if s['id'] in wanted]


class CellDb(object):
    """The lab's Nova cell database, read-only: what the API would answer, without its cost."""

    def __init__(self):
        import pymysql
        self.db = pymysql.connect(host='127.0.0.1', port=18706, user='nova',
                                  password=ENV['NOVALAB_DB_PASSWORD'], database='nova',
                                  autocommit=True)

    def count(self, sql, sids, *more):
        marks = ','.join(['%s'] * len(sids))
        with self.db.cursor() as cur:
            cur.execute(sql.replace('@SIDS@', marks), list(sids) + list(more))
            return cur.fetchone()[0]

    def evacuations(self, sids):
        return self.count("SELECT COUNT(DISTINCT instance_uuid) FROM migrations WHERE deleted = 0"
                          " AND migration_type = 'evacuation' AND instance_uuid IN (@SIDS@)"
                          " AND source_compute = %s", sids, HOST)

    def evacuations_unfinished(self, sids):
        return self.count("SELECT COUNT(*) FROM migrations WHERE deleted = 0"
                          " AND migration_type = 'evacuation' AND instance_uuid IN (@SIDS@)"
                          " AND source_compute = %s"
                          " AND status NOT IN ('done', 'completed', 'failed', 'error')",
                          sids, HOST)

    def active_elsewhere(self, sids):
        failed = self.count("SELECT COUNT(*) FROM instances WHERE deleted = 0 AND uuid IN (@SIDS@)"
                            " AND vm_state = 'error'", sids)
        if failed:
            raise RuntimeError('%d servers went ERROR' % failed)
        return self.count("SELECT COUNT(*) FROM instances WHERE deleted = 0 AND uuid IN (@SIDS@)"
                          " AND vm_state = 'active' AND task_state IS NULL AND host <> %s", sids, HOST)

    def close(self):
        self.db.close()


def watch(sids, t0, result, stop):
    """Reads Nova's database until every server is accepted for evacuation, then ACTIVE
    elsewhere."""
    n = len(sids)
    db = CellDb()
    try:
        while not stop.is_set():
            now = time.time()
            if 'accepted' not in result and db.evacuations(sids) == n:
                result['accepted'] = now - t0
            if 'accepted' in result and db.active_elsewhere(sids) == n:
                result['active'] = now - t0
                return
            time.sleep(POLL)
    except Exception as err:  # noqa: BLE001 -- reported by one_run, which finds no result
        result['error'] = str(err)
    finally:
        db.close()


def restore(nova, sids, config):
    # A server is ACTIVE a moment before its evacuation's migration is 'done'; the host's
    # nova-compute, back, completes only the 'done' ones (and then never looks again).
    db = CellDb()
    try:
        wait_for('evacuations from %s done' % HOST, lambda: db.evacuations_unfinished(sids) == 0,
                 120)
    finally:
        db.close()
    subprocess.run([LAB, 'start-compute', HOST[len('compute'):]], capture_output=True,
                   timeout=120)
    labctl.wait_migrations_completed(nova, HOST, timeout=300)
    service = nova.service(HOST)
    if service['forced_down']:
        nova.call('PUT', '/os-services/%s' % service['id'], {'forced_down': False}, mv='2.53')
    wait_for('%s up' % HOST, lambda: nova.service(HOST)['state'] == 'up', 120)
    if config == 'anchor':
        # fence_compute off disables the service as well (its `on` would enable it)
        nova.call('PUT', '/os-services/%s' % service['id'], {'status': 'enabled'}, mv='2.53')
    # paddock: nova-evacuate lifts its mark itself once the host is up
    wait_for('%s enabled' % HOST, lambda: nova.service(HOST)['status'] == 'enabled', 60)
    # Nova syncs the COMPUTE_STATUS_DISABLED trait of the host's resource provider only by
    # telling a running nova-compute; a host enabled while Nova took it for down keeps the trait
    # (Placement offers it nothing) until nova-compute's periodic update. Disabling and enabling
    # it now, while it is up, syncs it, so that the next run can boot there at once.
    service = nova.service(HOST)
    nova.call('PUT', '/os-services/%s' % service['id'],
              {'status': 'disabled', 'disabled_reason': 'bench: trait sync'}, mv='2.53')
    nova.call('PUT', '/os-services/%s' % service['id'], {'status': 'enabled'}, mv='2.53')
    for sid in sids:
        nova.call('DELETE', '/servers/%s' % sid, ok_codes=(404,))
    wait_for('servers deleted', lambda: not mine(nova, sids), 300)


def one_run(nova, config, n, run):
    tag = 'bench-%s-%d-%d' % (config, n, run)
    sids = boot_all(nova, n, tag)
    subprocess.run([LAB, 'kill-compute', HOST[len('compute'):]], capture_output=True,
                   timeout=60, check=True)
    result, stop = {}, threading.Event()
    t0 = time.time()
    poller = threading.Thread(target=watch, args=(sids, t0, result, stop))
    poller.start()
    try:
        (fence_paddock if config == 'paddock' else fence_anchor)()
        result['fence'] = time.time() - t0
        poller.join(600)
    finally:
        stop.set()
        poller.join()
        restore(nova, sids, config)
    if 'active' not in result:
        raise RuntimeError('%s, %d servers: not all evacuated and ACTIVE%s' % (
            config, n, (': ' + result['error']) if 'error' in result else ''))
    log('%s n=%d run %d: fence returned %.2f s, accepted %.2f s, active %.2f s' % (
        config, n, run, result['fence'], result['accepted'], result['active']))
    return result


def cell(values):
    values = sorted(values)
    if not values:
        return '-'
    if len(values) == 1:
        return '%.2f' % values[0]
    return '%.2f (%.2f-%.2f)' % (statistics.median(values), values[0], values[-1])


def main():
    sizes = [int(s) for s in ENV.get('SIZES', '1 10 50').split()]
    runs = int(ENV.get('RUNS', '3'))
    scratch = ENV.get('BENCH_TMP', '/tmp/paddock-nova-bench')
    os.makedirs(scratch, exist_ok=True)
    nova = Nova()
    labctl.lab_flavors(nova)
    left = [s for s in nova.call('GET', '/servers/detail?all_tenants=1&host=' + HOST)['servers']]
    if left:
        raise RuntimeError('%s is not empty (%d servers): the bench needs it to itself'
                           % (HOST, len(left)))
    results = {}
    daemon = Daemon(scratch)
    for n in sizes:
        for config in ENV.get('CONFIGS', 'paddock anchor').split():
            if config == 'paddock':
                daemon.action('start')
            try:
                for run in range(1, runs + 1):
                    results.setdefault((config, n), []).append(one_run(nova, config, n, run))
            finally:
                if config == 'paddock':
                    daemon.action('stop')
    print('| instances | configuration | fence request -> last evacuation accepted '
          '| fence request -> all ACTIVE elsewhere | runs |')
    print('|---|---|---|---|---|')
    names = {'paddock': 'fence_paddock_compute + ocf:paddock:nova-evacuate',
             'anchor': 'fence_compute + fence_evacuate (Debian 12)'}
    for n in sizes:
        for config in ('paddock', 'anchor'):
            rows = results.get((config, n), [])
            print('| %d | %s | %s | %s | %d |' % (
                n, names[config], cell([r['accepted'] for r in rows]),
                cell([r['active'] for r in rows]), len(rows)))
    for n in sizes:
        p = results.get(('paddock', n), [])
        a = results.get(('anchor', n), [])
        if p and a:
            acc = statistics.median([r['accepted'] for r in a]) / statistics.median(
                [r['accepted'] for r in p])
            print('- %d instances: accepted %.1fx sooner; all ACTIVE %s' % (
                n, acc, 'never later (worst %.2f vs best anchor %.2f)' % (
                    max(r['active'] for r in p), min(r['active'] for r in a))
                if max(r['active'] for r in p) <= min(r['active'] for r in a) else
                'median %.2f vs %.2f' % (statistics.median([r['active'] for r in p]),
                                         statistics.median([r['active'] for r in a]))))


if __name__ == '__main__':
    main()
