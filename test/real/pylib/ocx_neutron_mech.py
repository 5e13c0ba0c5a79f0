"""ML2 mechanism driver for OCX's real-OpenStack test stack: binds every port on any host with
no agent and no dataplane, so nova (fake virt driver) can boot servers on neutron networks.
Found by neutron through the entry point 'ocx' in neutron.ml2.mechanism_drivers (see the
.dist-info next to this file; test/real/lib/neutron.sh puts this directory on PYTHONPATH)."""
from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class OcxBindAllDriver(api.MechanismDriver):
    def initialize(self):
        pass

    def bind_port(self, context):
        # first segment wins; an OVS-style binding is what nova's fake driver expects
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OVS,
                                {portbindings.CAP_PORT_FILTER: True, portbindings.OVS_HYBRID_PLUG: False},
                                status=constants.PORT_STATUS_ACTIVE)
            return
