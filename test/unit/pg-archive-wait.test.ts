import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { archivedAtOrPast, waitForArchived } from '../../src/pg/archive-wait';

const SEG = '000000010000000000000005';

describe('waiting for the stop segment to be archived', () => {
  it('reads pg_stat_archiver.last_archived_wal carefully', () => {
    assert.ok(archivedAtOrPast(SEG, SEG));
    assert.ok(archivedAtOrPast('000000010000000000000006', SEG));
    assert.ok(!archivedAtOrPast('000000010000000000000004', SEG));
    assert.ok(!archivedAtOrPast(`${SEG}.partial`, SEG), 'a partial file is not the segment');
    assert.ok(archivedAtOrPast(`${SEG}.00000028.backup`, SEG), 'the backup history file is archived after SEG');
    assert.ok(!archivedAtOrPast('000000010000000000000004.00000028.backup', SEG));
    assert.ok(archivedAtOrPast('000000010000000000000006.00000028.backup', SEG));
    assert.ok(!archivedAtOrPast('000000020000000000000009', SEG), 'another timeline says nothing');
    assert.ok(!archivedAtOrPast('00000002.history', SEG));
  });

  it('returns as soon as the store or the archiver shows the segment', async () => {
    let polls = 0;
    const r = await waitForArchived(
      SEG,
      { inStore: async () => ++polls >= 3, lastArchivedWal: async () => undefined },
      { timeoutMs: 10_000, sleep: async () => undefined },
    );
    assert.equal(r, 'archived');
    assert.equal(polls, 3);
    const r2 = await waitForArchived(
      SEG,
      { inStore: async () => false, lastArchivedWal: async () => '000000010000000000000007' },
      { timeoutMs: 10_000, sleep: async () => assert.fail('no wait needed') },
    );
    assert.equal(r2, 'archived');
  });

  it('gives up after the timeout with a growing interval, reporting while it waits', async () => {
    let now = 0;
    const sleeps: number[] = [];
    const reports: number[] = [];
    const r = await waitForArchived(
      SEG,
      { inStore: async () => false, lastArchivedWal: async () => { throw new Error('session lost'); } },
      {
        timeoutMs: 100_000,
        now: () => now,
        sleep: async (ms) => {
          sleeps.push(ms);
          now += ms;
        },
        onWaiting: (ms) => reports.push(ms),
      },
    );
    assert.equal(r, 'timeout');
    assert.equal(now, 100_000, 'never sleeps past the deadline');
    assert.ok(Math.max(...sleeps) <= 5_000);
    assert.ok(reports.length >= 2 && reports.every((ms) => ms >= 30_000));
  });
});
