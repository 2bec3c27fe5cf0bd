// Grouping members into tar partitions (spec §4.4.4): in walk order, a partition closes before a member
// that would bring its recorded bytes to 1.5 GiB or its member count past 6144. Unlike WAL-E, a file
// larger than the budget does not abort the backup (spec §7 item 24): it simply ends up alone.
import type { DataDirMember } from '../../pg/data-dir-members';

export const PARTITION_MAX_BYTES = 1610612736;
export const PARTITION_MAX_MEMBERS = 6144;

/** A member, optionally with its bytes in hand (backup_label, tablespace_map from the stop call). */
export type PartitionMember = DataDirMember & { content?: Buffer };

export interface Partition {
  number: number;
  members: PartitionMember[];
  /** Sum of the members' recorded sizes (what expanded_size_bytes adds up). */
  bytes: number;
}

export interface PartitionLimits {
  maxBytes: number;
  maxMembers: number;
}

export const WALE_LIMITS: PartitionLimits = { maxBytes: PARTITION_MAX_BYTES, maxMembers: PARTITION_MAX_MEMBERS };

/** Incremental form of the rule, so partitions can be formed while earlier ones upload. */
export class PartitionBuilder {
  private current: Partition;

  constructor(private readonly limits: PartitionLimits = WALE_LIMITS, firstNumber = 0) {
    this.current = { number: firstNumber, members: [], bytes: 0 };
  }

  /** Adds a member; returns the partition it closed, if any. */
  add(m: PartitionMember): Partition | undefined {
    const c = this.current;
    let closed: Partition | undefined;
    if (c.members.length > 0 && (c.bytes + m.size >= this.limits.maxBytes || c.members.length >= this.limits.maxMembers)) {
      closed = c;
      this.current = { number: c.number + 1, members: [], bytes: 0 };
    }
    this.current.members.push(m);
    this.current.bytes += m.size;
    return closed;
  }

  /** The last partition, if it has members. */
  finish(): Partition | undefined {
    return this.current.members.length > 0 ? this.current : undefined;
  }

  /** The number the next partition would get. */
  get nextNumber(): number {
    return this.current.members.length > 0 ? this.current.number + 1 : this.current.number;
  }
}

export async function* partitionsOf(members: AsyncIterable<PartitionMember>, limits: PartitionLimits = WALE_LIMITS): AsyncGenerator<Partition> {
  const b = new PartitionBuilder(limits);
  for await (const m of members) {
    const closed = b.add(m);
    if (closed) yield closed;
  }
  const last = b.finish();
  if (last) yield last;
}
