import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLine, formatRate, structuredTime } from '../../src/log/format';

describe('WAL-E log line shape (spec §2)', () => {
  const when = new Date(Date.UTC(2026, 10, 22, 22, 59, 4, 337));

  it('pads logger name to 12 and level to 8, indents continuation lines by 8 spaces', () => {
    const line = formatLine(
      {
        logger: 'wal_e.worker.upload',
        level: 'INFO',
        msg: 'completed archiving to a file',
        detail: 'Archiving to "file:///tmp/store/pfx/wal_005/000000010000000000000003.lzo" complete at 197409KiB/s.',
        structured: {
          action: 'push-wal',
          key: 'file:///tmp/store/pfx/wal_005/000000010000000000000003.lzo',
          prefix: 'tmp/store/pfx/',
          rate: '197409',
          seg: '000000010000000000000003',
          state: 'complete',
        },
      },
      when,
      15916,
      337851,
    );
    assert.equal(
      line,
      'wal_e.worker.upload INFO     MSG: completed archiving to a file\n' +
        '        DETAIL: Archiving to "file:///tmp/store/pfx/wal_005/000000010000000000000003.lzo" complete at 197409KiB/s.\n' +
        '        STRUCTURED: time=2026-11-22T22:59:04.337851-00 pid=15916 action=push-wal key=file:///tmp/store/pfx/wal_005/000000010000000000000003.lzo prefix=tmp/store/pfx/ rate=197409 seg=000000010000000000000003 state=complete',
    );
  });

  it('short logger names are padded; HINT follows DETAIL; structured items sort as whole strings', () => {
    const line = formatLine(
      { logger: 'wal_e.main', level: 'ERROR', msg: 'm', detail: 'd', hint: 'h', structured: { b: 1, a: 'z', ab: 0 } },
      when,
      7,
      5,
    );
    assert.equal(
      line,
      'wal_e.main   ERROR    MSG: m\n        DETAIL: d\n        HINT: h\n' +
        '        STRUCTURED: time=2026-11-22T22:59:04.000005-00 pid=7 a=z ab=0 b=1',
    );
  });

  it('formats the STRUCTURED time with six-digit microseconds and a literal -00', () => {
    assert.equal(structuredTime(new Date(Date.UTC(2016, 2, 4, 5, 6, 7, 123))), '2016-03-04T05:06:07.123000-00');
  });

  it('formats rates like Python {0:02g}', () => {
    assert.equal(formatRate(197409), '197409');
    assert.equal(formatRate(86.33944), '86.3394');
    assert.equal(formatRate(9.587441), '9.58744');
    assert.equal(formatRate(1234567), '1.23457e+06');
    assert.equal(formatRate(Number.POSITIVE_INFINITY), 'NaN');
    assert.equal(formatRate(5), '05');
  });
});
