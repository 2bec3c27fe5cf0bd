import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeTarget, resolveConnectionParams } from '../../src/pg/connection-params';
import { lookupPgpass, parsePgpassLine } from '../../src/pg/pgpass';

const deps = (sockets: string[] = []) => ({ osUser: 'postgres', homeDir: '/home/pg', socketExists: (p: string) => sockets.includes(p) });

describe('connection settings by libpq conventions', () => {
  it('finds the default socket as psql does: /var/run/postgresql, then /tmp', () => {
    assert.equal(resolveConnectionParams({}, deps(['/var/run/postgresql/.s.PGSQL.5432', '/tmp/.s.PGSQL.5432'])).host, '/var/run/postgresql');
    assert.equal(resolveConnectionParams({}, deps(['/tmp/.s.PGSQL.5432'])).host, '/tmp');
    assert.equal(resolveConnectionParams({ PGPORT: '5433' }, deps(['/tmp/.s.PGSQL.5433'])).host, '/tmp');
    assert.equal(resolveConnectionParams({}, deps()).host, '/var/run/postgresql', 'the first default when none exists');
  });

  it('takes PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD and PGPASSFILE', () => {
    const p = resolveConnectionParams(
      { PGHOST: 'db.example,other', PGPORT: '6543', PGUSER: 'backup', PGDATABASE: 'app', PGPASSWORD: 'pw', PGPASSFILE: '/etc/pgpass' },
      deps(),
    );
    assert.deepEqual(p, { host: 'db.example', port: 6543, user: 'backup', database: 'app', pgpassHost: 'db.example', password: 'pw', passfile: '/etc/pgpass' });
    assert.ok(!describeTarget(p).includes('pw'));
  });

  it('defaults like WAL-E\'s psql -d postgres and libpq: OS user, ~/.pgpass, "localhost" for the default socket', () => {
    const p = resolveConnectionParams({}, deps());
    assert.equal(p.user, 'postgres');
    assert.equal(p.database, 'postgres');
    assert.equal(p.port, 5432);
    assert.equal(p.passfile, '/home/pg/.pgpass');
    assert.equal(p.pgpassHost, 'localhost');
    assert.equal(p.password, undefined);
    assert.equal(resolveConnectionParams({ PGHOST: '/srv/sock' }, deps()).pgpassHost, '/srv/sock');
  });

  it('rejects a bad port', () => {
    assert.throws(() => resolveConnectionParams({ PGPORT: 'x' }, deps()), /invalid port/);
  });
});

describe('password file', () => {
  it('parses escapes and skips comments', () => {
    assert.deepEqual(parsePgpassLine('h:5432:db:u:p\\:w\\\\d'), ['h', '5432', 'db', 'u', 'p:w\\d']);
    assert.equal(parsePgpassLine('# h:5432:db:u:p'), undefined);
    assert.equal(parsePgpassLine('too:few:fields'), undefined);
    assert.deepEqual(parsePgpassLine('h:1:d:u:pass:with:colons'), ['h', '1', 'd', 'u', 'pass:with:colons']);
  });

  it('returns the first matching line, with * wildcards', () => {
    const text = ['other:5432:*:*:nope', 'localhost:5432:postgres:backup:first', '*:*:*:*:fallback', ''].join('\n');
    const q = { host: 'localhost', port: '5432', database: 'postgres', user: 'backup' };
    assert.equal(lookupPgpass(text, q), 'first');
    assert.equal(lookupPgpass(text, { ...q, user: 'x' }), 'fallback');
    assert.equal(lookupPgpass('h:1:d:u:p', q), undefined);
  });
});
