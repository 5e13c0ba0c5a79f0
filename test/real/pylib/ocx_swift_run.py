#!/usr/bin/python3
"""Run one Swift server or daemon with swift.conf (hash path suffix, policies, constraints) read from
SWIFT_DIR instead of /etc/swift, so that everything the real-OpenStack stack writes stays in $STATE_DIR.

Usage: ocx_swift_run.py SWIFT_DIR SERVER CONF
  SERVER: proxy-server | account-server | container-server | object-server  (run_wsgi, like swift-*-server -v)
          container-updater | object-updater                                (run_daemon, like swift-*-updater -v)
Logs go to stderr (the caller redirects it to a file): there is no syslog on these machines.
"""
import sys


def main():
    swift_dir, server, conf = sys.argv[1:4]
    from swift.common import utils
    utils.set_swift_dir(swift_dir)   # validates [swift-hash] of SWIFT_DIR/swift.conf
    from swift.common import constraints
    from swift.common.storage_policy import reload_storage_policies
    constraints.reload_constraints()
    reload_storage_policies()
    if server == 'container-updater':
        from swift.common.daemon import run_daemon
        from swift.container.updater import ContainerUpdater
        run_daemon(ContainerUpdater, conf, verbose=True)
        return 0
    if server == 'object-updater':
        from swift.common.daemon import run_daemon
        from swift.obj.updater import ObjectUpdater
        run_daemon(ObjectUpdater, conf, verbose=True)
        return 0
    from swift.common.wsgi import run_wsgi
    return run_wsgi(conf, server, verbose=True)


if __name__ == '__main__':
    sys.exit(main())
