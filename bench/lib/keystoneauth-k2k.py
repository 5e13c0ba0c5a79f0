#!/usr/bin/python3
"""One plain K2K login with keystoneauth (python3-keystoneauth1, what openstackclient and openstacksdk use): the
baseline issue 12 names for the proxy's cold call ("one plain K2K login idp -> sp1 by keystoneauth").

Usage: keystoneauth-k2k.py IDP_AUTH_URL IDP_TOKEN IDP_PROJECT_ID SERVICE_PROVIDER PROJECT_NAME
Prints one JSON line: {"ms": <get_access time>, "token": <the SP token>, "image": <the SP's public Glance URL>}.
Only get_access is timed (not Python's start-up or imports), from a fresh idp token as a user's client has one:
v3.Token for the idp (keystoneauth rescopes it first, as it always does), then ECP assertion, the SP's ECP
endpoint, the federated login and the rescope to the project.
"""
import json
import sys
import time

from keystoneauth1 import session
from keystoneauth1.identity import v3

auth_url, token, project_id, sp, project_name = sys.argv[1:6]
idp = v3.Token(auth_url=auth_url, token=token, project_id=project_id)
k2k = v3.Keystone2Keystone(idp, sp, project_name=project_name, project_domain_name='Default')
sess = session.Session(timeout=60)
t0 = time.perf_counter()
access = k2k.get_access(sess)
ms = (time.perf_counter() - t0) * 1000
image = ''
for entry in access.service_catalog.catalog:
    if entry.get('type') == 'image':
        image = next((e['url'] for e in entry['endpoints'] if e['interface'] == 'public'), '')
print(json.dumps({'ms': ms, 'token': access.auth_token, 'image': image.rstrip('/')}))
