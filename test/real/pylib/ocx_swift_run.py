#!/usr/bin/python3
"""Run one Swift server or daemon with swift.conf (hash path suffix, policies, constraints) read from
SWIFT_DIR instead of /etc/swift, so that everything the real-OpenStack stack writes stays in $STATE_DIR.

Usage: ocx_swift_run.py SWIFT_DIR SERVER CONF
  SERVER: proxy-server | account-server | container-server | object-server  (run_wsgi, like swift-*-server -v)
          container-updater                                                 (single-threaded sweeps, see updater_loop)
Logs go to stderr (the caller redirects it to a file): there is no syslog on these machines.
"""
import sys


def updater_loop(conf_path):
    """The container updater as single-threaded sweeps every `interval` seconds. Its daemon mode forks a child per
    device for each sweep, and on the loaded 2-core CI machine those sweeps took 140-165 s for 83 containers, where
    a single-threaded sweep of the same containers takes under 2 s."""
    import time
    from swift.common.utils import eventlet_monkey_patch, get_logger, readconf
    from swift.container.updater import ContainerUpdater
    conf = readconf(conf_path, 'container-updater')
    updater = ContainerUpdater(conf, logger=get_logger(conf, log_route='container-updater', log_to_console=True))
    interval = float(conf.get('interval', 300))
    eventlet_monkey_patch()
    while True:
        begin = time.time()
        updater.run_once()
        time.sleep(max(0.0, interval - (time.time() - begin)))


def main():
    swift_dir, server, conf = sys.argv[1:4]
    from swift.common import utils
    utils.set_swift_dir(swift_dir)   # validates [swift-hash] of SWIFT_DIR/swift.conf
    from swift.common import constraints
    from swift.common.storage_policy import reload_storage_policies
    constraints.reload_constraints()
    reload_storage_policies()
    if server == 'container-updater':
        return updater_loop(conf)
    from swift.common.wsgi import run_wsgi
    return run_wsgi(conf, server, verbose=True)


if __name__ == '__main__':
    sys.exit(main())
