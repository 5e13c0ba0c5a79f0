/**
 * The registration list: every command module of `ocx`, in help order. To add commands, write a module in this
 * folder exporting `register: RegisterCommands` (and, for commands that parse their own arguments,
 * `passthrough: Record<name, Passthrough>`), then add it here.
 */
import type { RegisterCommands } from '../context.ts';
import { register as cloud } from './cloud.ts';
import { register as devcloud, passthrough as devcloudPassthrough } from './devcloud.ts';
import { register as flavor } from './flavor.ts';
import { register as image } from './image.ts';
import { register as network } from './network.ts';
import type { Passthrough } from './passthrough.ts';
import { register as proxy, passthrough as proxyPassthrough } from './proxy.ts';
import { register as server } from './server.ts';
import { register as token } from './token.ts';
import { register as volume } from './volume.ts';

export const COMMANDS: readonly RegisterCommands[] = [
  cloud,
  token,
  server,
  image,
  flavor,
  network,
  volume,
  devcloud,
  proxy,
];

/** Commands handed their raw argv (they own their options): `ocx devcloud ...`, `ocx up ...`, `ocx proxy ...`. */
export const PASSTHROUGH: Readonly<Record<string, Passthrough>> = { ...devcloudPassthrough, ...proxyPassthrough };
