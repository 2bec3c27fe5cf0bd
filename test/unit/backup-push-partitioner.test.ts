import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PARTITION_MAX_BYTES,
  PARTITION_MAX_MEMBERS,
  PartitionBuilder,
  partitionsOf,
  type PartitionMember,
} from '../../src/backup/push/partitioner';

function file(name: string, size: number): PartitionMember {
  return { path: `/d/${name}`, name, kind: 'file', size, mode: 0o600, uid: 0, gid: 0, mtimeMs: 0 };
}

async function* from<T>(xs: T[]): AsyncGenerator<T> {
  yield* xs;
}

async function collect(members: PartitionMember[], limits = { maxBytes: 100, maxMembers: 3 }) {
  const out: { number: number; names: string[]; bytes: number }[] = [];
  for await (const p of partitionsOf(from(members), limits)) out.push({ number: p.number, names: p.members.map((m) => m.name), bytes: p.bytes });
  return out;
}

describe('partitioning (spec §4.4.4)', () => {
  it('uses WAL-E constants', () => {
    assert.equal(PARTITION_MAX_BYTES, 1610612736);
    assert.equal(PARTITION_MAX_MEMBERS, 6144);
  });

  it('closes a partition before a member that would reach the byte budget (>=)', async () => {
    assert.deepEqual(await collect([file('a', 40), file('b', 59), file('c', 1)]), [
      { number: 0, names: ['a', 'b'], bytes: 99 },
      { number: 1, names: ['c'], bytes: 1 },
    ]);
    assert.deepEqual(await collect([file('a', 40), file('b', 60)]), [
      { number: 0, names: ['a'], bytes: 40 },
      { number: 1, names: ['b'], bytes: 60 },
    ]);
  });

  it('closes a partition when it holds the maximum number of members', async () => {
    const r = await collect(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => file(n, 0)));
    assert.deepEqual(r.map((p) => p.names), [['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);
  });

  it('puts a file larger than the budget alone instead of aborting', async () => {
    assert.deepEqual((await collect([file('a', 10), file('huge', 500), file('b', 10)])).map((p) => p.names), [['a'], ['huge'], ['b']]);
    assert.deepEqual((await collect([file('huge', 500)])).map((p) => p.names), [['huge']]);
  });

  it('emits nothing for nothing and never an empty partition', async () => {
    assert.deepEqual(await collect([]), []);
    const b = new PartitionBuilder({ maxBytes: 10, maxMembers: 10 });
    assert.equal(b.add(file('x', 50)), undefined, 'the first member never closes an (empty) partition');
    assert.equal(b.nextNumber, 1);
    assert.equal(b.finish()?.members.length, 1);
  });

  it('6144 empty files fit one partition with real limits, the 6145th starts the next', async () => {
    const members = Array.from({ length: 6145 }, (_, i) => file(`f${i}`, 0));
    const parts: number[] = [];
    for await (const p of partitionsOf(from(members))) parts.push(p.members.length);
    assert.deepEqual(parts, [6144, 1]);
  });
});
