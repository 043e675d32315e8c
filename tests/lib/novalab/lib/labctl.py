"""Client-side helper of the Nova lab (stdlib, plus PyMySQL for the readiness
check).  Run by tests/lib/novalab.sh with the lab venv's python:

  labctl.py keystone-setup          service user + catalog (after bootstrap)
  labctl.py wait-ready N TIMEOUT    N computes up and mapped to cell1
  labctl.py flavors                 the lab's flavors (idempotent)
  labctl.py flavor-create NAME ID RAM VCPUS DISK [k=v ...]
  labctl.py boot NAME HOST [--meta k=v]... [--flavor F] [--image I] [--timeout S]
  labctl.py status                  nova-compute services
  labctl.py servers [--tag T] [--host H] [--status S]   "id name status host" lines
  labctl.py delete-tagged TAG       delete the servers whose metadata has tag=TAG
  labctl.py service HOST FIELD      one field of HOST's nova-compute service
  labctl.py service-reset HOST      HOST's service enabled and not forced down (clean-up)
  labctl.py selftest [--anchors]    evacuation sequence against the lab

Settings come from the environment (novalab.sh exports the lab's env file):
OS_AUTH_URL (empty: token-filter mode), OS_USERNAME, OS_PASSWORD, ...,
NOVA_URL, NOVALAB_SH (path of novalab.sh, for kill/start-compute).
Every network call and every wait is bounded.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pymysql  # the lab venv has it (nova's DB driver)
from pymysql import MySQLError as DatabaseError

ENV = os.environ
NOVA = ENV.get('NOVA_URL', 'http://127.0.0.1:18774/v2.1')
KEYSTONE = ENV.get('OS_AUTH_URL', '')
DEFAULT_IMAGE = '11111111-2222-3333-4444-555555555555'
T0 = time.time()


def log(msg):
    print('[%7.2fs] %s' % (time.time() - T0, msg), flush=True)


class HttpError(Exception):
    def __init__(self, code, method, url, body):
        super().__init__('%s %s -> HTTP %s: %s' % (method, url, code,
                                                   body[:300]))
        self.code = code
        self.body = body


def http(method, url, body=None, headers=None, timeout=30):
    """One bounded request; returns (status, headers, parsed JSON or {})."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header('Content-Type', 'application/json')
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw, code, hdrs = resp.read(), resp.status, resp.headers
    except urllib.error.HTTPError as err:
        raise HttpError(err.code, method, url,
                        err.read().decode(errors='replace')) from None
    return code, hdrs, (json.loads(raw) if raw else {})


def keystone_token(project=None):
    """Password-scoped token (Keystone mode) or the token filter's form."""
    if not KEYSTONE:
        return 'admin:admin'
    scope = {'project': {'name': project or ENV.get('OS_PROJECT_NAME', 'admin'),
                         'domain': {'name': ENV.get('OS_PROJECT_DOMAIN_NAME',
                                                    'Default')}}}
    body = {'auth': {'identity': {'methods': ['password'], 'password': {
        'user': {'name': ENV.get('OS_USERNAME', 'admin'),
                 'domain': {'name': ENV.get('OS_USER_DOMAIN_NAME', 'Default')},
                 'password': ENV['OS_PASSWORD']}}}, 'scope': scope}}
    _, hdrs, _ = http('POST', KEYSTONE + '/auth/tokens', body)
    return hdrs['X-Subject-Token']


class Nova(object):
    def __init__(self):
        self.token = keystone_token()

    def call(self, method, path, body=None, mv='2.74', ok_codes=None):
        try:
            return http(method, NOVA + path, body, {
                'X-Auth-Token': self.token,
                'OpenStack-API-Version': 'compute %s' % mv})[2]
        except HttpError as err:
            if ok_codes and err.code in ok_codes:
                return {'error_code': err.code, 'error_body': err.body}
            raise

    def server(self, sid):
        return self.call('GET', '/servers/%s' % sid)['server']

    def service(self, host):
        return self.call('GET', '/os-services?binary=nova-compute&host=%s'
                         % host, mv='2.53')['services'][0]

    def compute_services(self):
        return self.call('GET', '/os-services?binary=nova-compute',
                         mv='2.53')['services']


def wait_for(what, probe, timeout, interval=0.5):
    end = time.time() + timeout
    while time.time() < end:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError('timeout (%ss) waiting for %s' % (timeout, what))


def host_of(server):
    return server.get('OS-EXT-SRV-ATTR:host')


def settled(server):
    """ACTIVE with no task in progress; ERROR is fatal."""
    if server['status'] == 'ERROR':
        raise RuntimeError('server %s went ERROR: %s' % (
            server['id'], (server.get('fault') or {}).get('message')))
    return server['status'] == 'ACTIVE' and not server.get(
        'OS-EXT-STS:task_state')


# ---------------------------------------------------------------- setup
def keystone_setup():
    """The nova service user (for authtoken) and the compute + image
    endpoints; identity's own endpoint comes from keystone-manage bootstrap."""
    hdr = {'X-Auth-Token': keystone_token()}

    def post(path, body):
        return http('POST', KEYSTONE + path, body, hdr)[2]

    project = post('/projects', {'project': {'name': 'service',
                                             'domain_id': 'default'}})
    user = post('/users', {'user': {'name': 'nova', 'domain_id': 'default',
                                    'password': ENV['NOVALAB_NOVA_PASSWORD']}})
    roles = {r['name']: r['id'] for r in
             http('GET', KEYSTONE + '/roles', None, hdr)[2]['roles']}
    if 'service' not in roles:
        roles['service'] = post('/roles', {'role': {'name': 'service'}}
                                )['role']['id']
    for role in ('admin', 'service'):
        http('PUT', KEYSTONE + '/projects/%s/users/%s/roles/%s' % (
            project['project']['id'], user['user']['id'], roles[role]),
            None, hdr)
    for kind, name, url in (('compute', 'nova', NOVA),
                            ('image', 'glance', 'http://127.0.0.1:18792')):
        service = post('/services', {'service': {'type': kind, 'name': name}})
        for interface in ('public', 'internal', 'admin'):
            post('/endpoints', {'endpoint': {
                'service_id': service['service']['id'], 'url': url,
                'interface': interface, 'region_id': 'RegionOne'}})


def mapped_hosts():
    """Hosts mapped to a cell (the scheduler's discovery fills this)."""
    conn = pymysql.connect(host='127.0.0.1', port=18706, user='nova',
                           password=ENV['NOVALAB_DB_PASSWORD'],
                           database='nova_api', connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute('SELECT host FROM host_mappings')
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


def wait_ready(count, timeout):
    """nova-api answers, `count` computes are up and mapped to cell1."""
    end = time.time() + timeout
    nova, last = None, 'nova-api'
    while time.time() < end:
        try:
            nova = nova or Nova()
            up = sorted(s['host'] for s in nova.compute_services()
                        if s['state'] == 'up')
            last = 'computes up: %s' % up
            if len(up) >= count and len(mapped_hosts() & set(up)) >= count:
                return
            last += ', mapped: %s' % sorted(mapped_hosts())
        except (OSError, HttpError, KeyError, DatabaseError) as err:
            last = str(err)
            if isinstance(err, HttpError) and err.code == 401:
                nova = None
        time.sleep(1)
    raise RuntimeError('lab not ready after %ss (%s)' % (timeout, last))


def flavor_create(nova, name, fid, ram, vcpus, disk, extra_specs):
    existing = {f['id'] for f in nova.call('GET', '/flavors?is_public=None'
                                           )['flavors']}
    if fid not in existing:
        nova.call('POST', '/flavors', {'flavor': {
            'name': name, 'id': fid, 'ram': int(ram), 'vcpus': int(vcpus),
            'disk': int(disk)}})
    if extra_specs:
        nova.call('POST', '/flavors/%s/os-extra_specs' % fid,
                  {'extra_specs': extra_specs})


def lab_flavors(nova):
    # 1: the default; 2: same size, declared not HA by its extra spec
    flavor_create(nova, 'm1.tiny', '1', 512, 1, 1, {})
    flavor_create(nova, 'm1.tiny-no-ha', '2', 512, 1, 1,
                  {'paddock:ha': 'false'})


def boot(nova, name, host=None, meta=None, flavor='1', image=DEFAULT_IMAGE,
         wait=120):
    body = {'server': {'name': name, 'imageRef': image, 'flavorRef': flavor,
                       'networks': 'none', 'metadata': meta or {}}}
    if host:
        body['server']['host'] = host   # 2.74: an admin picks the host
    sid = nova.call('POST', '/servers', body, mv='2.74')['server']['id']
    if wait:
        server = wait_for('server %s ACTIVE' % sid,
                          lambda: (lambda s: s if settled(s) else None)(
                              nova.server(sid)), wait)
        if host and host_of(server) != host:
            raise RuntimeError('server %s landed on %s, not %s'
                               % (sid, host_of(server), host))
    return sid


def servers(nova, tag=None, host=None, status=None):
    """All projects' servers, filtered by metadata tag, host and status."""
    query = '/servers/detail?all_tenants=1' + ('&host=%s' % host if host else '')
    found = nova.call('GET', query)['servers']
    return [s for s in found
            if (tag is None or s.get('metadata', {}).get('tag') == tag) and
            (host is None or host_of(s) == host) and
            (status is None or s['status'] == status)]


def service_field(nova, host, field):
    """forced_down, status, state, disabled_reason...: booleans as
    true/false, nothing for null, as a shell test wants them."""
    value = nova.service(host).get(field)
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return '' if value is None else str(value)


# ---------------------------------------------------------------- selftest
class Checks(object):
    def __init__(self):
        self.passed, self.failed = 0, 0

    def check(self, ok, what):
        log(('PASS ' if ok else 'FAIL ') + what)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok


def lab_cmd(*args):
    subprocess.run([ENV['NOVALAB_SH']] + list(args), check=True, timeout=120)


def anchor(agent, *options):
    """Run a Debian fence agent through novalab.sh (stdin options)."""
    proc = subprocess.run([ENV['NOVALAB_SH'], 'anchor', agent] + list(options),
                          capture_output=True, text=True, timeout=400)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def wait_evacuated(nova, sids, source, timeout=180):
    for sid in sids:
        wait_for('evacuation of %s' % sid, lambda: (
            lambda s: settled(s) and host_of(s) not in (None, source))(
                nova.server(sid)), timeout)


def wait_migrations_completed(nova, host, timeout=120):
    wait_for('evacuation migrations from %s completed' % host, lambda: all(
        m['status'] == 'completed' for m in nova.call(
            'GET', '/os-migrations?migration_type=evacuation&source_compute=%s'
            % host, mv='2.59')['migrations']), timeout)


def delete_servers(nova, sids):
    for sid in sids:
        nova.call('DELETE', '/servers/%s' % sid)
    for sid in sids:
        wait_for('deletion of %s' % sid, lambda: 'error_code' in nova.call(
            'GET', '/servers/%s' % sid, ok_codes=(404,)), 90)


def selftest_rest(nova, checks, host='compute1'):
    """force-down, kill, evacuate, restart, unforce: plain REST calls."""
    sids = [boot(nova, 'selftest-%d' % i, host) for i in (1, 2)]
    checks.check(all(host_of(nova.server(s)) == host for s in sids),
                 '2 servers ACTIVE on %s' % host)
    svc = nova.service(host)
    t_fence = time.time()
    forced = nova.call('PUT', '/os-services/%s' % svc['id'],
                       {'forced_down': True}, mv='2.53')['service']
    checks.check(forced['forced_down'] is True and forced['state'] == 'down',
                 '%s forced down (state %s)' % (host, forced['state']))
    lab_cmd('kill-compute', host[len('compute'):])
    for sid in sids:
        nova.call('POST', '/servers/%s/action' % sid, {'evacuate': {}},
                  mv='2.68')
    wait_evacuated(nova, sids, host)
    hosts = [host_of(nova.server(s)) for s in sids]
    checks.check(all(h and h != host for h in hosts),
                 'evacuated to %s, ACTIVE, %.1fs after force-down'
                 % (hosts, time.time() - t_fence))
    lab_cmd('start-compute', host[len('compute'):])
    refused = nova.call('PUT', '/os-services/%s' % svc['id'],
                        {'forced_down': False}, mv='2.53', ok_codes=(400,))
    # nova refuses to unforce while evacuations from the host are "done"; the
    # restarted compute may already have cleaned up, so both are valid here
    log('unforce before cleanup: %s' % (
        'refused (400)' if 'error_code' in refused else 'accepted'))
    wait_migrations_completed(nova, host)
    nova.call('PUT', '/os-services/%s' % svc['id'], {'forced_down': False},
              mv='2.53')
    wait_for('%s up' % host, lambda: nova.service(host)['state'] == 'up', 90)
    final = nova.service(host)
    checks.check(final['state'] == 'up' and not final['forced_down'],
                 '%s restarted, migrations completed, unforced, up' % host)
    delete_servers(nova, sids)


def selftest_anchors(nova, checks, host='compute2'):
    """The same sequence driven by Debian's fence_compute + fence_evacuate."""
    sids = [boot(nova, 'anchor-%d' % i, host) for i in (1, 2)]
    rc, out = anchor('fence_compute', 'action=status', 'plug=' + host)
    checks.check(rc == 0 and 'Status: ON' in out,
                 'fence_compute status %s: rc=%d %s'
                 % (host, rc, out.splitlines()[-1:]))
    lab_cmd('kill-compute', host[len('compute'):])
    t_fence = time.time()
    rc, out = anchor('fence_compute', 'action=off', 'plug=' + host,
                     'no_shared_storage=1')
    svc = nova.service(host)
    checks.check(rc == 0 and svc['forced_down'],
                 'fence_compute off %s: rc=%d forced_down=%s (%.1fs)'
                 % (host, rc, svc['forced_down'], time.time() - t_fence))
    rc, out = anchor('fence_evacuate', 'action=off', 'plug=' + host,
                     'no_shared_storage=1')
    checks.check(rc == 0, 'fence_evacuate off %s: rc=%d %s'
                 % (host, rc, out.splitlines()[-1:]))
    wait_evacuated(nova, sids, host)
    checks.check(True, 'evacuated by fence_evacuate, %.1fs after fencing'
                 % (time.time() - t_fence))
    lab_cmd('start-compute', host[len('compute'):])
    wait_migrations_completed(nova, host)
    rc, out = anchor('fence_compute', 'action=on', 'plug=' + host)
    wait_for('%s up' % host, lambda: nova.service(host)['state'] == 'up', 90)
    final = nova.service(host)
    checks.check(rc == 0 and final['state'] == 'up' and
                 not final['forced_down'] and final['status'] == 'enabled',
                 'fence_compute on %s: rc=%d state=%s forced_down=%s status=%s'
                 % (host, rc, final['state'], final['forced_down'],
                    final['status']))
    delete_servers(nova, sids)


def restore_after_failure(nova, hosts):
    """Best effort, so that a failed selftest leaves the shared lab usable:
    computes running, not forced down, no selftest servers."""
    for host in hosts:
        subprocess.run([ENV['NOVALAB_SH'], 'start-compute', host[7:]],
                       capture_output=True, timeout=60)
    for server in nova.call('GET', '/servers?all_tenants=1')['servers']:
        if server['name'].startswith(('selftest-', 'anchor-')):
            nova.call('DELETE', '/servers/%s' % server['id'], ok_codes=(404,))
    for host in hosts:
        nova.call('PUT', '/os-services/%s' % nova.service(host)['id'],
                  {'forced_down': False}, mv='2.53', ok_codes=(400,))


def selftest(with_anchors):
    checks = Checks()
    nova = Nova()
    try:
        run_selftest(nova, checks, with_anchors)
    except (RuntimeError, HttpError, OSError,
            subprocess.SubprocessError) as err:
        checks.check(False, 'selftest stopped: %s' % err)
        log('restoring compute1 and compute2')
        restore_after_failure(nova, ('compute1', 'compute2'))
    print('%d passed, %d failed' % (checks.passed, checks.failed))
    return 1 if checks.failed else 0


def run_selftest(nova, checks, with_anchors):
    lab_flavors(nova)
    # the image stub's HA properties: none on the default image
    for image, props in (('22222222-3333-4444-5555-666666666666',
                          {'paddock:ha': 'false'}), (DEFAULT_IMAGE, {})):
        doc = http('GET', 'http://127.0.0.1:18792/v2/images/' + image)[2]
        served = {k: doc[k] for k in ('paddock:ha', 'evacuable') if k in doc}
        checks.check(served == props, 'image %s serves HA properties %s'
                     % (image[:8], served))
    selftest_rest(nova, checks)
    if with_anchors:
        selftest_anchors(nova, checks)


# ---------------------------------------------------------------- main
def parse_boot(args):
    name, host = args[0], (None if args[1] in ('-', 'any') else args[1])
    opts = {'meta': {}, 'flavor': '1', 'image': DEFAULT_IMAGE, 'wait': 120}
    rest = args[2:]
    while rest:
        key, value = rest[0], rest[1]
        if key == '--meta':
            k, _, v = value.partition('=')
            opts['meta'][k] = v
        elif key in ('--flavor', '--image'):
            opts[key[2:]] = value
        elif key == '--timeout':
            opts['wait'] = int(value)
        else:
            raise SystemExit('boot: unknown option %s' % key)
        rest = rest[2:]
    return name, host, opts


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == 'keystone-setup':
        keystone_setup()
    elif cmd == 'wait-ready':
        wait_ready(int(args[0]), int(args[1]))
    elif cmd == 'flavors':
        lab_flavors(Nova())
    elif cmd == 'flavor-create':
        specs = dict(a.split('=', 1) for a in args[5:])
        flavor_create(Nova(), *args[:5], extra_specs=specs)
    elif cmd == 'boot':
        name, host, opts = parse_boot(args)
        print(boot(Nova(), name, host, **opts))
    elif cmd == 'status':
        for s in Nova().compute_services():
            print('%-10s %-8s %-4s forced_down=%-5s %s' % (
                s['host'], s['status'], s['state'], s['forced_down'],
                s.get('disabled_reason') or ''))
    elif cmd == 'servers':
        opts = dict(zip(args[0::2], args[1::2]))
        unknown = set(opts) - {'--tag', '--host', '--status'}
        if unknown or len(args) % 2:
            raise SystemExit('servers: [--tag T] [--host H] [--status S]')
        for srv in servers(Nova(), opts.get('--tag'), opts.get('--host'),
                           opts.get('--status')):
            print(srv['id'], srv['name'], srv['status'], host_of(srv) or '-')
    elif cmd == 'delete-tagged':
        nova = Nova()
        delete_servers(nova, [srv['id'] for srv in servers(nova, args[0])])
    elif cmd == 'service':
        print(service_field(Nova(), args[0], args[1]))
    elif cmd == 'service-reset':
        # a test's clean-up: HOST's service enabled, not forced down, whatever left it so
        nova = Nova()
        svc = nova.service(args[0])
        nova.call('PUT', '/os-services/%s' % svc['id'],
                  {'status': 'enabled', 'forced_down': False}, mv='2.53',
                  ok_codes=(400,))
    elif cmd == 'selftest':
        return selftest('--anchors' in args)
    else:
        raise SystemExit('labctl: unknown command %s' % cmd)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except (RuntimeError, HttpError, OSError, IndexError, ValueError) as err:
        print('labctl: %s' % err, file=sys.stderr)
        sys.exit(1)
