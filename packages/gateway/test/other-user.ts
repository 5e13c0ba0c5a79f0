/** A second user of devcloud's home cloud (idp) in a project of its own: what one user must never see or steer. */
import { createSession } from '@ocx/sdk';
import type { Env } from './helpers.ts';

export async function otherUser(env: Env, name: string): Promise<{ headers: { authorization: string } }> {
  const ks = env.dc.cloud('idp').keystone;
  const project = ks.ensureProject(`${name}-project`, 'default');
  const member = ks.findRoleByName('member');
  if (!member) throw new Error('devcloud has no member role');
  const user = ks.createUser({ name, domainId: 'default', password: `${name}-secret`, defaultProjectId: project.id });
  ks.grant('user', user.id, 'project', project.id, member.id);
  const idp = env.config.getCloud('idp');
  const session = createSession({
    ...idp,
    auth: { ...idp.auth, username: name, password: `${name}-secret`, project_name: project.name },
  });
  try {
    return { headers: { authorization: `Bearer ${await session.getToken()}` } };
  } finally {
    await session.close();
  }
}
