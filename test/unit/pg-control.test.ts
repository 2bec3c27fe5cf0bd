import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32c, parsePgControl, PgControlError } from '../../src/pg/pg-control';
import { formatLsn, parseLsn, segmentName, walFileNameOffset } from '../../src/pg/lsn';
import { packageRoot } from '../../src/util/dist-path';

const fixture = (major: number) => readFileSync(join(packageRoot(), 'test', 'fixtures', 'pg-control', `pg${major}-shut-down.pg_control`));

describe('pg_control (PostgreSQL 12, 15, 18 files made by initdb)', () => {
  // Expected values are pg_controldata's output for the same files.
  const expected: Record<number, { version: number; redo: string }> = {
    12: { version: 1201, redo: '0/1643070' },
    15: { version: 1300, redo: '0/14F4A88' },
    18: { version: 1800, redo: '0/174B290' },
  };
  for (const major of [12, 15, 18]) {
    it(`reads state, REDO, timeline and segment size on PostgreSQL ${major}`, () => {
      const c = parsePgControl(fixture(major));
      assert.equal(c.pgControlVersion, expected[major]!.version);
      assert.equal(c.state, 'shut down');
      assert.equal(formatLsn(c.redoLsn), expected[major]!.redo);
      assert.equal(c.checkpointLsn, c.redoLsn, 'a shutdown checkpoint starts at its own REDO');
      assert.equal(c.timeline, 1);
      assert.equal(c.blockSize, 8192);
      assert.equal(c.walSegmentSize, 16 * 1024 * 1024);
    });
  }

  it('rejects a damaged file instead of guessing', () => {
    const b = Buffer.from(fixture(15));
    b[40] ^= 0xff;
    assert.throws(() => parsePgControl(b), PgControlError);
    assert.throws(() => parsePgControl(Buffer.alloc(50)), /too short/);
    assert.throws(() => parsePgControl(Buffer.alloc(8192)), /unknown pg_control version/);
  });

  it('computes CRC-32C like PostgreSQL', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });
});

describe('WAL positions and segment names (spec §3.3)', () => {
  it('parses and prints LSNs', () => {
    assert.equal(parseLsn('0/2000028'), 0x2000028n);
    assert.equal(parseLsn('1A/B3000060'), (0x1an << 32n) | 0xb3000060n);
    assert.equal(formatLsn(0x1a_b3000060n), '1A/B3000060');
    assert.throws(() => parseLsn('garbage'));
  });

  it('names segments like pg_walfile_name_offset, hex timeline included', () => {
    const MB16 = 16 * 1024 * 1024;
    assert.deepEqual(walFileNameOffset(0x2000028n, 1, MB16), { fileName: '000000010000000000000002', offset: 40 });
    // WAL-E's --while-offline got this one wrong (spec §5.4.2): base_000000120000001A000000B3_000000B3.
    assert.deepEqual(walFileNameOffset(parseLsn('1A/B3000060'), 0x12, MB16), { fileName: '000000120000001A000000B3', offset: 96 });
    // Exactly on a boundary: the previous segment, offset 0.
    assert.deepEqual(walFileNameOffset(0x3000000n, 1, MB16), { fileName: '000000010000000000000002', offset: 0 });
    // Other segment sizes: 1 GiB segments, 4 per log id; 1 MiB, 4096 per log id.
    assert.equal(walFileNameOffset((5n << 32n) | 0xc0000010n, 2, 1 << 30).fileName, '000000020000000500000003');
    assert.equal(segmentName(1, 4097n, 1 << 20), '000000010000000100000001');
  });
});
