/**
 * Swift's state for one cloud: the account, container and object tables, the blob store that holds object
 * bytes, and the questions every route asks of them (stats, expiry-aware look-ups, quotas).
 */
import type { CloudContext, Table } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { BlobStore } from '../storage/blob-store.ts';
import { isExpired } from './data.ts';
import { type AccountRow, type ContainerRow, containerId, nowTs, type ObjectRow, objectId } from './model.ts';

export interface ContainerStats {
  count: number;
  bytes: number;
  lastTs: number;
}

export class SwiftStore {
  readonly blobs: BlobStore;
  readonly accounts: Table<AccountRow>;
  readonly containers: Table<ContainerRow>;
  readonly objects: Table<ObjectRow>;

  constructor(ctx: CloudContext) {
    this.blobs = BlobStore.forService(ctx, 'swift');
    this.accounts = ctx.store.table<AccountRow>('swift_accounts');
    this.containers = ctx.store.table<ContainerRow>('swift_containers');
    this.objects = ctx.store.table<ObjectRow>('swift_objects');
  }

  close(): void {
    this.blobs.close();
  }

  /** The account's row; made (and, with `create`, stored) on first use, as Swift autocreates accounts. */
  accountRow(account: string, create: boolean): AccountRow {
    let row = this.accounts.get(account);
    if (!row) {
      row = { id: account, meta: {}, timestamp: nowTs() };
      if (create) this.accounts.put(row);
    }
    return row;
  }

  liveObjects(account: string, container: string): ObjectRow[] {
    return this.objects.filter((o) => o.account === account && o.container === container && !isExpired(o));
  }

  containerStats(c: ContainerRow): ContainerStats {
    let count = 0;
    let bytes = 0;
    let lastTs = c.putTimestamp;
    for (const o of this.liveObjects(c.account, c.name)) {
      count++;
      bytes += o.size;
      if (o.timestamp > lastTs) lastTs = o.timestamp;
    }
    return { count, bytes, lastTs };
  }

  accountStats(account: string): { containers: ContainerRow[]; objects: number; bytes: number } {
    const cs = this.containers.filter((c) => c.account === account);
    let objects = 0;
    let bytes = 0;
    for (const c of cs) {
      const s = this.containerStats(c);
      objects += s.count;
      bytes += s.bytes;
    }
    return { containers: cs, objects, bytes };
  }

  getContainer(account: string, name: string): ContainerRow | undefined {
    return this.containers.get(containerId(account, name));
  }

  /** An object that has not expired; an expired one is deleted on the way (Swift's expirer, done lazily). */
  getObject(account: string, container: string, name: string): ObjectRow | undefined {
    const o = this.objects.get(objectId(account, container, name));
    if (o && isExpired(o)) {
      this.objects.delete(o.id);
      void this.blobs.remove(o.blob);
      return undefined;
    }
    return o;
  }

  /** Container (`quota-bytes`, `quota-count`) and account (`quota-bytes`) quotas, as Swift's middlewares check. */
  checkQuota(c: ContainerRow, addBytes: number, replacing: ObjectRow | undefined): void {
    const s = this.containerStats(c);
    const bytesAfter = s.bytes - (replacing?.size ?? 0) + addBytes;
    const countAfter = s.count + (replacing ? 0 : 1);
    const qb = c.meta['quota-bytes'];
    const qc = c.meta['quota-count'];
    if (qb !== undefined && bytesAfter > Number(qb)) throw new ApiFault(413, 'Upload exceeds quota.');
    if (qc !== undefined && countAfter > Number(qc)) throw new ApiFault(413, 'Upload exceeds quota.');
    const aq = this.accounts.get(c.account)?.meta['quota-bytes'];
    if (aq !== undefined) {
      const a = this.accountStats(c.account);
      if (a.bytes - (replacing?.size ?? 0) + addBytes > Number(aq)) throw new ApiFault(413, 'Upload exceeds quota.');
    }
  }

  /** Store an object row; the blob of the row it replaces is removed. */
  storeObject(row: ObjectRow): void {
    const old = this.objects.get(row.id);
    this.objects.put(row);
    if (old?.blob && old.blob !== row.blob) void this.blobs.remove(old.blob);
  }
}
