"""Keystone-less auth for nova-api (the lab's `--noauth` mode).

nova >= 33 dropped its noauth2 pipeline.  This paste filter takes the old
contract: `X-Auth-Token: user[:project]`, user `admin` has the admin role,
and turns it into the identity headers nova's NovaKeystoneContext reads.
Keystone mode (the default) uses keystonemiddleware's authtoken instead.
"""
import webob.dec
import webob.exc

# identity headers a client must never be able to set itself
_IDENTITY_HEADERS = (
    'X-User-Id', 'X-User', 'X-User-Name', 'X-Project-Id', 'X-Tenant-Id',
    'X-Tenant', 'X-Project-Name', 'X-Roles', 'X-Role', 'X-Service-Catalog',
    'X-Identity-Status', 'X-System-Scope', 'X-Domain-Id',
    'X-User-Domain-Id', 'X-Project-Domain-Id')


class TokenFilter(object):
    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req):
        token = req.headers.get('X-Auth-Token')
        if not token:
            return webob.exc.HTTPUnauthorized(
                explanation='lab token filter: send X-Auth-Token: user[:project]')
        for name in _IDENTITY_HEADERS:
            req.headers.pop(name, None)
        user, _, project = token.partition(':')
        project = project or user
        roles = 'admin,member,reader' if user == 'admin' else 'member,reader'
        req.headers.update({
            'X-Identity-Status': 'Confirmed',
            'X-User-Id': user, 'X-User-Name': user,
            'X-Project-Id': project, 'X-Tenant-Id': project,
            'X-Project-Name': project, 'X-Roles': roles,
            'X-User-Domain-Id': 'default', 'X-Project-Domain-Id': 'default',
        })
        return req.get_response(self.app)


def filter_factory(global_conf, **local_conf):
    return TokenFilter
