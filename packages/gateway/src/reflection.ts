/**
 * grpc.reflection.v1.ServerReflection, so `buf curl` and grpcurl work without a schema file: lists the served
 * services and answers file / symbol lookups with serialized FileDescriptorProtos (the file and everything it
 * imports).
 */
import { createRegistry, type DescFile, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Code, type ServiceImpl } from '@connectrpc/connect';
import type { ServerReflection, ServerReflectionRequest } from '@ocx/sdk/gen/grpc/reflection/v1/reflection_pb';

function withDeps(file: DescFile, out: Map<string, DescFile> = new Map()): Map<string, DescFile> {
  if (out.has(file.proto.name)) return out;
  out.set(file.proto.name, file);
  for (const dep of file.dependencies) withDeps(dep, out);
  return out;
}

export function reflectionService(
  files: readonly DescFile[],
  services: () => readonly string[],
): ServiceImpl<typeof ServerReflection> {
  const registry = createRegistry(...files);
  const byName = new Map<string, DescFile>();
  for (const f of files) withDeps(f, byName);
  const encode = (file: DescFile) =>
    [...withDeps(file).values()].map((f) => toBinary(FileDescriptorProtoSchema, f.proto));

  const fileOfSymbol = (symbol: string): DescFile | undefined => {
    const direct = registry.get(symbol);
    if (direct) return direct.file;
    // A method: package.Service.Method
    const dot = symbol.lastIndexOf('.');
    const service = dot > 0 ? registry.getService(symbol.slice(0, dot)) : undefined;
    return service?.methods.some((m) => m.name === symbol.slice(dot + 1)) ? service.file : undefined;
  };

  const answer = (req: ServerReflectionRequest) => {
    const m = req.messageRequest;
    const notFound = (what: string) => ({
      case: 'errorResponse' as const,
      value: { errorCode: Code.NotFound, errorMessage: `${what} not found` },
    });
    switch (m.case) {
      case 'listServices':
        return { case: 'listServicesResponse' as const, value: { service: services().map((name) => ({ name })) } };
      case 'fileByFilename': {
        const file = byName.get(m.value);
        return file
          ? { case: 'fileDescriptorResponse' as const, value: { fileDescriptorProto: encode(file) } }
          : notFound(`file ${m.value}`);
      }
      case 'fileContainingSymbol': {
        const file = fileOfSymbol(m.value);
        return file
          ? { case: 'fileDescriptorResponse' as const, value: { fileDescriptorProto: encode(file) } }
          : notFound(`symbol ${m.value}`);
      }
      case 'allExtensionNumbersOfType':
        return {
          case: 'allExtensionNumbersResponse' as const,
          value: { baseTypeName: m.value, extensionNumber: [] },
        };
      default:
        return {
          case: 'errorResponse' as const,
          value: { errorCode: Code.Unimplemented, errorMessage: 'not supported' },
        };
    }
  };

  return {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        yield { validHost: req.host, originalRequest: req, messageResponse: answer(req) };
      }
    },
  };
}
