#!/usr/bin/python3
"""nodepool's sequence against the OCX gRPC gateway, from Python with Debian's python3-grpcio.

No generated code: the message classes come from the descriptor set `buf build -o set.binpb` writes.
Usage: nodepool_client.py DESCRIPTOR_SET HOST:PORT CLOUD   (token in the OCX_TOKEN environment variable)
Prints one JSON object with what it saw; exits non-zero on any failure.
"""
import json
import os
import sys

import grpc
from google.protobuf import json_format

from ocx_grpc import channel as gateway_channel, load

SERVICE = "ocx.cloud.v1.CloudService"


def main():
    set_path, target, cloud = sys.argv[1:4]
    token = os.environ["OCX_TOKEN"]
    cls = load(set_path)
    channel = gateway_channel(target, token)

    def call(method, body, stream=False, timeout=60):
        req = json_format.ParseDict(body, cls(f"ocx.cloud.v1.{method}Request")())
        resp = cls(f"ocx.cloud.v1.{method}Response")
        path = f"/{SERVICE}/{method}"
        make = channel.unary_stream if stream else channel.unary_unary
        rpc = make(path, request_serializer=lambda m: m.SerializeToString(), response_deserializer=resp.FromString)
        return rpc(req, timeout=timeout)

    here = {"location": {"clouds": [cloud]}}
    out = {}
    limits = call("GetLimits", {"location": {"clouds": [cloud]}})
    out["limits"] = [(l.location.cloud, l.compute.max_total_instances) for l in limits.limits]
    flavors = call("ListFlavors", {"filter": here})
    flavor = sorted(flavors.flavors, key=lambda f: f.ram)[0]
    image = call("CreateImage", {
        "location": {"cloud": cloud}, "name": "py-nodepool-img", "diskFormat": "raw", "wait": True,
        "data": "cHl0aG9uIGltYWdlIGJ5dGVzCg==",
    }).image
    out["image"] = {"cloud": image.location.cloud, "status": image.status}
    server = call("CreateServer", {"spec": {
        "location": {"cloud": cloud}, "name": "py-nodepool-srv", "image": image.id, "flavor": flavor.id,
        "metadata": {"nodepool_node_id": "py-1"},
    }}).server
    out["created"] = server.status
    waited = call("WaitForServer", {"filter": {"location": {"clouds": [cloud]}, "nameOrId": server.id},
                                    "timeoutSeconds": 60}).server
    out["waited"] = {"status": waited.status, "interface_ip": waited.interface_ip, "cloud": waited.location.cloud}
    try:
        call("GetServer", {"filter": {"location": {"clouds": [cloud]}, "nameOrId": "py-no-such-server"}})
        out["missing"] = "found?"
    except grpc.RpcError as e:
        out["missing"] = e.code().name
    deleted = call("DeleteServer", {"filter": {"location": {"clouds": [cloud]}, "nameOrId": server.id}, "wait": True})
    out["deleted"] = deleted.deleted
    fips = call("DeleteUnattachedFloatingIps", {"location": {"clouds": [cloud]}})
    out["fips"] = [(d.location.cloud, d.count) for d in fips.deleted]
    out["image_deleted"] = call("DeleteImage", {"filter": {"location": {"clouds": [cloud]}, "nameOrId": image.id},
                                                "wait": True}).deleted
    try:
        bad = grpc.secure_channel(target, grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP))
        bad.unary_unary(f"/{SERVICE}/ListFlavors", request_serializer=lambda m: m.SerializeToString(),
                        response_deserializer=cls("ocx.cloud.v1.ListFlavorsResponse").FromString)(
            cls("ocx.cloud.v1.ListFlavorsRequest")(), timeout=10)
        out["no_token"] = "OK?"
    except grpc.RpcError as e:
        out["no_token"] = e.code().name
    print(json.dumps(out))


if __name__ == "__main__":
    main()
