"""What Python clients of the OCX gateway share (nodepool_client.py here, bench/lib/grpcio-download.py): message
classes from a `buf build` descriptor set (no generated code) and a channel carrying the bearer token."""
import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


def load(path):
    """A function from a full message name to its class, for every message of the descriptor set at `path`."""
    fds = descriptor_pb2.FileDescriptorSet()
    with open(path, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for proto in fds.file:
        pool.Add(proto)
    factory = message_factory.MessageFactory(pool)

    def cls(name):
        desc = pool.FindMessageTypeByName(name)
        get = getattr(message_factory, "GetMessageClass", None)
        return get(desc) if get else factory.GetPrototype(desc)

    return cls


def channel(target, token, options=None):
    """A channel to the gateway at HOST:PORT sending `authorization: Bearer <token>` on every call."""
    # Call credentials need a secure channel; on loopback, local credentials carry them over cleartext h2c.
    creds = grpc.composite_channel_credentials(
        grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP),
        grpc.access_token_call_credentials(token),
    )
    return grpc.secure_channel(target, creds, options=options)
