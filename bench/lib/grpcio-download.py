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

from google.protobuf import json_format

# The gateway's Python test client's helpers: descriptor-set message classes and the bearer-token channel.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../packages/gateway/test/python"))
from ocx_grpc import channel as gateway_channel, load  # noqa: E402


def main():
    set_path, target, cloud, image_id = sys.argv[1:5]
    cls = load(set_path)
    channel = gateway_channel(
        target, os.environ["OCX_TOKEN"], options=[("grpc.max_receive_message_length", 4 * 1024 * 1024)]
    )
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
