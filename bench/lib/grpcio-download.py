#!/usr/bin/python3
"""One DownloadImage through the OCX gateway with Debian's python3-grpcio (C-core's HTTP/2 and gRPC, not Node's):
what the gateway serves to a client whose decoding is cheap. Message classes from a `buf build` descriptor set.

Usage: grpcio-download.py DESCRIPTOR_SET HOST:PORT CLOUD IMAGE_ID   (token in OCX_TOKEN)
Prints one JSON line: {"ms": <time from the call to the last chunk>, "bytes": <chunk bytes received>}.
"""
import json
import os
import sys
import time

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def load(path):
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


def main():
    set_path, target, cloud, image_id = sys.argv[1:5]
    cls = load(set_path)
    creds = grpc.composite_channel_credentials(
        grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP),
        grpc.access_token_call_credentials(os.environ["OCX_TOKEN"]),
    )
    channel = grpc.secure_channel(target, creds, options=[("grpc.max_receive_message_length", 4 * 1024 * 1024)])
    req = json_format.ParseDict(
        {"filter": {"location": {"clouds": [cloud]}, "nameOrId": image_id}}, cls("ocx.cloud.v1.DownloadImageRequest")()
    )
    rpc = channel.unary_stream(
        "/ocx.cloud.v1.TransferService/DownloadImage",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=cls("ocx.cloud.v1.DownloadImageResponse").FromString,
    )
    got = 0
    t0 = time.perf_counter()
    for m in rpc(req, timeout=900):
        if m.WhichOneof("part") == "chunk":
            got += len(m.chunk)
    ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({"ms": ms, "bytes": got}))


main()
