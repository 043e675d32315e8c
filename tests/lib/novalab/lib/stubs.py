"""Image (Glance v2) and network (Neutron v2.0) stand-ins for the Nova lab.

Nova needs an image service to boot, rebuild and evacuate, and a network
service for port look-ups even for servers booted with networks='none'.
The image stub serves a fixed set of public raw images whose extra
properties are what an HA policy reads (Glance v2 puts them at the top
level of the image document); the network stub answers empty collections.
Every request is logged, so a test can see what Nova asked for.
"""
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GLANCE_PORT = 18792
NEUTRON_PORT = 18796

# id -> (name, extra properties); ids are documented in tests/lib/novalab/README.md
IMAGES = {
    '11111111-2222-3333-4444-555555555555': ('lab-image', {}),
    '22222222-3333-4444-5555-666666666666': ('lab-image-no-ha',
                                             {'paddock:ha': 'false'}),
    '33333333-4444-5555-6666-777777777777': ('lab-image-evacuable',
                                             {'evacuable': 'true'}),
}


def image_document(image_id):
    name, props = IMAGES[image_id]
    doc = {
        'id': image_id, 'name': name, 'status': 'active',
        'visibility': 'public', 'protected': False, 'os_hidden': False,
        'size': 1048576, 'virtual_size': None, 'min_disk': 0, 'min_ram': 0,
        'disk_format': 'raw', 'container_format': 'bare',
        'checksum': 'c4ca4238a0b923820dcc509a6f75849b',
        'os_hash_algo': 'sha512', 'os_hash_value': None,
        'owner': 'admin', 'tags': [],
        'created_at': '2024-01-01T00:00:00Z',
        'updated_at': '2024-01-01T00:00:00Z',
        'self': '/v2/images/' + image_id,
        'file': '/v2/images/%s/file' % image_id,
        'schema': '/v2/schemas/image',
    }
    doc.update(props)
    return doc


IMAGE_SCHEMA = {
    'name': 'image', 'additionalProperties': {'type': 'string'},
    'properties': {k: {} for k in image_document(next(iter(IMAGES)))},
    'links': [],
}
LOG_LOCK = threading.Lock()


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    service = '?'

    def log_message(self, fmt, *args):
        with LOG_LOCK:
            sys.stdout.write('%s %s\n' % (self.service, fmt % args))
            sys.stdout.flush()

    def reply(self, code, body=None):
        data = b'' if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def discard_body(self):
        length = int(self.headers.get('Content-Length') or 0)
        if length:
            self.rfile.read(length)

    def path_only(self):
        return self.path.split('?')[0].rstrip('/')


class GlanceStub(JsonHandler):
    service = 'glance'

    def do_GET(self):
        path = self.path_only()
        if path in ('', '/v2'):
            return self.reply(200, {'versions': [{
                'id': 'v2.16', 'status': 'CURRENT',
                'links': [{'rel': 'self', 'href': 'http://127.0.0.1:%d/v2/'
                           % GLANCE_PORT}]}]})
        if path == '/v2/schemas/image':
            return self.reply(200, IMAGE_SCHEMA)
        if path == '/v2/images':
            return self.reply(200, {'images': [image_document(i)
                                               for i in IMAGES]})
        match = re.match(r'^/v2/images/([^/]+)$', path)
        if match and match.group(1) in IMAGES:
            return self.reply(200, image_document(match.group(1)))
        return self.reply(404, {'message': 'not found'})


class NeutronStub(JsonHandler):
    service = 'neutron'

    def do_GET(self):
        path = self.path_only()
        if path in ('', '/v2.0'):
            return self.reply(200, {'versions': [{
                'id': 'v2.0', 'status': 'CURRENT',
                'links': [{'rel': 'self', 'href': 'http://127.0.0.1:%d/v2.0/'
                           % NEUTRON_PORT}]}]})
        if re.match(r'^/v2\.0/quotas/[^/]+$', path):
            return self.reply(200, {'quota': {
                'port': -1, 'network': -1, 'subnet': -1, 'floatingip': -1,
                'security_group': -1, 'security_group_rule': -1}})
        match = re.match(r'^/v2\.0/([a-z_-]+)$', path)
        if match:  # any collection: empty
            return self.reply(200, {match.group(1).replace('-', '_'): []})
        return self.not_found()

    def not_found(self):
        self.discard_body()
        self.reply(404, {'NeutronError': {
            'type': 'NotFound', 'message': 'lab network stub', 'detail': ''}})

    do_POST = do_PUT = do_DELETE = not_found


def main():
    servers = [ThreadingHTTPServer(('127.0.0.1', GLANCE_PORT), GlanceStub),
               ThreadingHTTPServer(('127.0.0.1', NEUTRON_PORT), NeutronStub)]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print('lab stubs: glance 127.0.0.1:%d neutron 127.0.0.1:%d'
          % (GLANCE_PORT, NEUTRON_PORT), flush=True)
    threading.Event().wait()


if __name__ == '__main__':
    main()
