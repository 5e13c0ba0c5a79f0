#!/usr/bin/python3
"""Admin-side helper for test/real (keystoneauth sessions; avoids the openstack CLI start-up cost).

All commands take the keystone URL of the cloud first and use admin / $ADMIN_PASSWORD.
  seed KS_URL...                          member+reader roles, project/user demo (idempotent)
  register KS_URL USER NAME TYPE URL      service user (admin+service on project service; '-' = none),
                                          catalog service and public/internal/admin endpoints
  unregister KS_URL TYPE                  remove the catalog service of TYPE (and its endpoints), if any
  grant KS_URL USER PROJECT ROLE          give USER the ROLE (created if missing) on PROJECT, all in domain Default
  fed-idp KS_URL SP_ID SP_URL AUTH_URL... service providers on the IdP keystone
  fed-sp KS_URL IDP_ID ENTITY_ID PROTOCOL PREFIX
                                          group federated_users (member on demo), mapping, IdP, protocol
  flavors KS_URL                          m1.tiny (id 1) and m1.small (id 2)
  wait-compute KS_URL TIMEOUT             nova-compute up and a hypervisor listed; then flavors
  wait-volume KS_URL TIMEOUT              cinder-scheduler and cinder-volume up; volume type 'fake'
  health KS_URL...                        every catalog endpoint answers, compute/volume services up
  k2k IDP_URL SP_ID...                    demo on the IdP gets a K2K token for project demo on each SP
                                          and lists that SP's images with it (if it has an image service)
"""
import os
import sys
import time

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

REGION = os.environ.get('REGION', 'RegionOne')


def sess(url, user='admin', pw=None, project='admin'):
    pw = pw or os.environ.get('ADMIN_PASSWORD', 'admin-secret')
    # Every call has a deadline: a service that accepts a connection and never answers must not hang a wait loop
    # (poll() only checks its own deadline between calls).
    return session.Session(auth=v3.Password(auth_url=url, username=user, password=pw, project_name=project,
                                            user_domain_id='default', project_domain_id='default'),
                           timeout=30)


def ks(url):
    return client.Client(session=sess(url))


def one(lst, **kw):
    return next(iter(lst(**kw)), None)


def seed(*urls):
    for url in urls:
        seed_one(url)


def seed_one(url):
    k = ks(url)
    member = one(k.roles.list, name='member') or k.roles.create(name='member')
    if not one(k.roles.list, name='reader'):
        k.roles.create(name='reader')
    proj = one(k.projects.list, name='demo', domain='default') or k.projects.create(name='demo', domain='default')
    pw = os.environ.get('DEMO_PASSWORD', 'demo-secret')
    user = one(k.users.list, name='demo', domain='default') or \
        k.users.create(name='demo', domain='default', password=pw, default_project=proj)
    k.roles.grant(member, user=user, project=proj)
    print('seeded demo user/project on', url)


def register(url, user, name, stype, ep):
    k = ks(url)
    proj = one(k.projects.list, name='service', domain='default') or \
        k.projects.create(name='service', domain='default', description='service users')
    if user != '-':
        pw = os.environ.get('SERVICE_PASSWORD', 'service-secret')
        u = one(k.users.list, name=user, domain='default')
        if u:
            k.users.update(u, password=pw)
        else:
            u = k.users.create(name=user, domain='default', password=pw, default_project=proj)
        for rname in ('admin', 'service'):
            r = one(k.roles.list, name=rname) or k.roles.create(name=rname)
            k.roles.grant(r, user=u, project=proj)
    svc = one(k.services.list, type=stype) or k.services.create(name=name, type=stype, enabled=True)
    have = {e.interface: e for e in k.endpoints.list(service=svc)}
    for iface in ('public', 'internal', 'admin'):
        if iface in have:
            if have[iface].url != ep:
                k.endpoints.update(have[iface], url=ep)
        else:
            k.endpoints.create(service=svc, url=ep, interface=iface, region=REGION)
    print('registered %s (%s) at %s' % (name, stype, ep))


def unregister(url, stype):
    k = ks(url)
    for svc in k.services.list(type=stype):
        for e in k.endpoints.list(service=svc):
            k.endpoints.delete(e)
        k.services.delete(svc)
        print('unregistered %s (%s)' % (svc.name, stype))


def grant(url, user, project, role):
    k = ks(url)
    r = one(k.roles.list, name=role) or k.roles.create(name=role)
    k.roles.grant(r, user=one(k.users.list, name=user, domain='default'),
                  project=one(k.projects.list, name=project, domain='default'))
    print('granted %s to %s on project %s' % (role, user, project))


def fed_idp(url, *args):
    k = ks(url)
    existing = {sp.id for sp in k.federation.service_providers.list()}
    for i in range(0, len(args), 3):
        sp_id, sp_url, auth_url = args[i:i + 3]
        if sp_id in existing:
            k.federation.service_providers.update(sp_id, sp_url=sp_url, auth_url=auth_url, enabled=True)
        else:
            k.federation.service_providers.create(id=sp_id, sp_url=sp_url, auth_url=auth_url, enabled=True)
        print('idp: service provider %s -> %s' % (sp_id, auth_url))


def fed_sp(url, idp_id, entity_id, protocol, prefix):
    k = ks(url)
    grp = one(k.groups.list, name='federated_users', domain='default') or \
        k.groups.create(name='federated_users', domain='default')
    proj = one(k.projects.list, name='demo', domain='default')
    member = one(k.roles.list, name='member')
    k.roles.grant(member, group=grp, project=proj)
    # A keystone IdP asserts openstack_user, openstack_user_domain, openstack_roles, openstack_project,
    # openstack_project_domain; mod_auth_mellon exports them as PREFIX + name.
    rules = [{
        'local': [{'user': {'name': '{0}', 'type': 'ephemeral'}},
                  {'group': {'name': 'federated_users', 'domain': {'id': 'default'}}}],
        'remote': [{'type': prefix + 'openstack_user'},
                   {'type': prefix + 'openstack_user_domain', 'any_one_of': ['Default']}],
    }]
    mapping_id = idp_id + '_mapping'
    if any(m.id == mapping_id for m in k.federation.mappings.list()):
        k.federation.mappings.update(mapping_id, rules=rules)
    else:
        k.federation.mappings.create(mapping_id=mapping_id, rules=rules)
    if idp_id in {i.id for i in k.federation.identity_providers.list()}:
        k.federation.identity_providers.update(idp_id, remote_ids=[entity_id], enabled=True)
    else:
        k.federation.identity_providers.create(id=idp_id, remote_ids=[entity_id], enabled=True)
    if protocol in {p.id for p in k.federation.protocols.list(idp_id)}:
        k.federation.protocols.update(idp_id, protocol, mapping_id)
    else:
        k.federation.protocols.create(protocol, idp_id, mapping_id)
    print('sp %s: idp=%s protocol=%s mapping=%s' % (url, idp_id, protocol, mapping_id))


def ep(s, stype):
    return s.get_endpoint(service_type=stype, interface='public', region_name=REGION)


def flavors(url):
    s = sess(url)
    c = ep(s, 'compute')
    have = {f['id'] for f in s.get(c + '/flavors').json()['flavors']}
    for fid, name, ram, disk in (('1', 'm1.tiny', 512, 1), ('2', 'm1.small', 2048, 20)):
        if fid not in have:
            s.post(c + '/flavors', json={'flavor': {'id': fid, 'name': name, 'ram': ram, 'disk': disk, 'vcpus': 1}})
    print('flavors m1.tiny, m1.small present')


def poll(what, timeout, fn):
    t0 = time.time()
    last = None
    while time.time() - t0 < float(timeout):
        try:
            ok, last = fn()
            if ok:
                print('%s after %.1fs' % (what, time.time() - t0))
                return
        except Exception as e:  # service still starting
            last = repr(e)
        time.sleep(2)
    sys.exit('ERROR: %s not reached within %ss (last: %s)' % (what, timeout, last))


def wait_compute(url, timeout):
    s = sess(url)

    def check():
        c = ep(s, 'compute')
        svcs = s.get(c + '/os-services', params={'binary': 'nova-compute'}).json()['services']
        hyp = s.get(c + '/os-hypervisors').json()['hypervisors']
        rps = s.get(ep(s, 'placement') + '/resource_providers').json()['resource_providers']
        return (any(x['state'] == 'up' for x in svcs) and len(hyp) > 0 and len(rps) > 0,
                {'services': svcs, 'hypervisors': hyp, 'resource_providers': rps})
    poll('nova-compute up with a hypervisor and its resource provider', timeout, check)
    flavors(url)


def wait_volume(url, timeout):
    s = sess(url)

    def check():
        v = ep(s, 'volumev3')
        svcs = s.get(v + '/os-services').json()['services']
        up = {x['binary'] for x in svcs if x['state'] == 'up'}
        return {'cinder-scheduler', 'cinder-volume'} <= up, svcs
    poll('cinder-scheduler + cinder-volume up', timeout, check)
    v = ep(s, 'volumev3')
    if not any(t['name'] == 'fake' for t in s.get(v + '/types').json()['volume_types']):
        s.post(v + '/types', json={'volume_type': {'name': 'fake', 'extra_specs': {'volume_backend_name': 'fake'}}})
    print('volume type fake present')


def health(*urls):
    bad = []
    for url in urls:
        try:
            s = sess(url)
            cat = s.auth.get_access(s).service_catalog
        except Exception as e:
            bad.append('%s: admin token failed: %r' % (url, e))
            continue
        for svc in cat.catalog:
            stype = svc['type']
            try:
                e = ep(s, stype)
                r = s.get(e, authenticated=True, raise_exc=False, timeout=10)
                status = 'ok' if r.status_code < 500 else 'HTTP %s' % r.status_code
            except Exception as ex:
                status = 'DOWN (%s)' % type(ex).__name__
            if status != 'ok':
                bad.append('%s %s %s' % (url, stype, status))
            print('  %-34s %-13s %s' % (url, stype, status))
        types = {svc['type'] for svc in cat.catalog}
        try:
            if 'compute' in types:
                svcs = s.get(ep(s, 'compute') + '/os-services').json()['services']
                for x in svcs:
                    if x['state'] != 'up':
                        bad.append('%s %s is %s' % (url, x['binary'], x['state']))
                if not any(x['binary'] == 'nova-compute' for x in svcs):
                    bad.append('%s nova-compute not registered' % url)
            if 'volumev3' in types:
                svcs = s.get(ep(s, 'volumev3') + '/os-services').json()['services']
                for x in svcs:
                    if x['state'] != 'up':
                        bad.append('%s %s@%s is %s' % (url, x['binary'], x['host'], x['state']))
                if not any(x['binary'] == 'cinder-volume' for x in svcs):
                    bad.append('%s cinder-volume not registered' % url)
        except Exception as ex:
            bad.append('%s service list failed: %r' % (url, ex))
    if bad:
        print('UNHEALTHY:\n  ' + '\n  '.join(bad), file=sys.stderr)
        sys.exit(1)
    print('all services healthy')


def k2k(idp_url, *sps):
    from keystoneauth1.identity.v3 import k2k as k2kmod
    local = v3.Password(auth_url=idp_url, username='demo', password=os.environ.get('DEMO_PASSWORD', 'demo-secret'),
                        project_name='demo', user_domain_id='default', project_domain_id='default')
    bad = []
    for sp in sps:
        t0 = time.time()
        s = session.Session(auth=k2kmod.Keystone2Keystone(local, sp, project_name='demo', project_domain_id='default'))
        try:
            ref = s.auth.get_access(s)
            msg = 'K2K %s -> %s: token for %s (federated=%s) project=%s roles=%s' % (
                idp_url, sp, ref.username, ref.is_federated, ref.project_name, ','.join(sorted(ref.role_names)))
            try:
                img = ref.service_catalog.url_for(service_type='image', interface='public')
                r = s.get(img + '/v2/images')
                msg += '; image list HTTP %s' % r.status_code
            except Exception as e:  # no image service in this SP, or it is down
                if 'EndpointNotFound' not in type(e).__name__:
                    raise
            print('  %s (%.1fs)' % (msg, time.time() - t0))
        except Exception as e:
            bad.append('K2K to %s failed: %r' % (sp, e))
    if bad:
        print('\n'.join(bad), file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    cmds = {'seed': seed, 'register': register, 'unregister': unregister, 'grant': grant, 'fed-idp': fed_idp, 'fed-sp': fed_sp, 'flavors': flavors,
            'wait-compute': wait_compute, 'wait-volume': wait_volume, 'health': health, 'k2k': k2k}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
