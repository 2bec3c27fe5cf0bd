// The command-line surface, driven through the built bin/wal-e: help lists, usage errors, start-up
// errors and their exit codes (spec §1).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../src/util/dist-path';
import { logMessages, runWalE } from '../helpers/cli';

/** Every command and option WAL-E 1.1.1 has (spec §1.2, §1.3), held here independently of src/cli/spec.ts. */
const EXPECTED_GLOBAL = ['-k, --aws-access-key-id', '--aws-instance-profile', '--gs-access-key-id', '-a, --wabs-account-name', '--s3-prefix', '--wabs-prefix', '--gs-prefix', '--file-prefix', '--gpg-key-id', '--terse', '-h, --help'];
const EXPECTED_COMMANDS: Record<string, string[]> = {
  version: ['-h, --help'],
  'backup-fetch': ['--blind-restore', '--restore-spec', '-p, --pool-size', '-h, --help'],
  'backup-list': ['--detail', '-h, --help'],
  'backup-push': ['--cluster-read-rate-limit', '--while-offline', '-p, --pool-size', '-h, --help'],
  'wal-fetch': ['-p, --prefetch', '-h, --help'],
  'wal-prefetch': ['-h, --help'],
  'wal-push': ['-p, --pool-size', '-h, --help'],
  delete: ['-n, --dry-run', '--confirm', '-h, --help'],
  'delete before': ['-h, --help'],
  'delete retain': ['-h, --help'],
  'delete old-versions': ['-h, --help'],
  'delete everything': ['-h, --help'],
};

function helpOptions(help: string): string[] {
  const section = help.split(/^Options:$/m)[1]?.split(/^Commands:$/m)[0] ?? '';
  return [...section.matchAll(/^ {2}((?:-\w, )?--[\w-]+)/gm)].map((m) => m[1]!);
}

function helpCommands(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([\w-]+)/gm)].map((m) => m[1]!);
}

describe('wal-e --help and <command> --help', () => {
  it('top level offers exactly the global options and commands', async () => {
    const r = await runWalE(['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    assert.deepEqual(helpOptions(r.stdout), EXPECTED_GLOBAL);
    assert.deepEqual(helpCommands(r.stdout).sort(), Object.keys(EXPECTED_COMMANDS).filter((c) => !c.includes(' ')).sort());
  });

  for (const [cmd, options] of Object.entries(EXPECTED_COMMANDS)) {
    it(`${cmd} --help offers exactly its options`, async () => {
      const r = await runWalE([...cmd.split(' '), '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(helpOptions(r.stdout), options);
      if (cmd === 'delete') assert.deepEqual(helpCommands(r.stdout), ['before', 'retain', 'old-versions', 'everything']);
    });
  }

  it('-h works like --help at every level', async () => {
    const r = await runWalE(['delete', 'retain', '-h']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /NUM_TO_RETAIN/);
  });
});

describe('wal-e version', () => {
  it('prints the version and nothing else, without a prefix', async () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
    const r = await runWalE(['version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${pkg.version}\n`);
    assert.equal(r.stderr, '');
  });
});

describe('usage errors: argparse shape, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['bogus'], /^wal-e: error: argument subcommand: invalid choice: 'bogus'/m],
    [['--no-such-option', 'version'], /^wal-e: error: unrecognized arguments: --no-such-option/m],
    [['wal-push'], /^wal-e wal-push: error: the following arguments are required: WAL_SEGMENT/m],
    [['wal-fetch', 'only-one'], /^wal-e wal-fetch: error: the following arguments are required: WAL_DESTINATION/m],
    [['wal-fetch', 'a', 'b', '-p', 'x'], /^wal-e wal-fetch: error: argument --prefetch\/-p: invalid int value: 'x'/m],
    [['backup-push', '--pool-size'], /^wal-e backup-push: error: argument --pool-size\/-p: expected one argument/m],
    [['delete', 'retain', '5', '--confirm'], /^wal-e delete retain: error: unrecognized arguments: --confirm/m],
    [['delete', 'retain'], /^wal-e delete retain: error: the following arguments are required: NUM_TO_RETAIN/m],
    [['delete'], /^wal-e delete: error: a delete subcommand is required/m],
    [['-k', 'AKID', '--aws-instance-profile', 'backup-list'], /^wal-e: error: argument --aws-instance-profile: not allowed with argument --aws-access-key-id\/-k/m],
    [['--s3-prefix', 's3://b/p', '--terse', 'wal-push'], /^wal-e wal-push: error: the following arguments are required/m],
    [['wal-push', 'x', '--terse'], /^wal-e wal-push: error: unrecognized arguments: --terse/m],
    [['--gs', 'gs://b/x', 'version'], /^wal-e: error: ambiguous option: --gs could match --gs-access-key-id, --gs-prefix/m],
  ];
  for (const [args, expected] of cases) {
    it(`wal-e ${args.join(' ')}`, async () => {
      const r = await runWalE(args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 2, r.stderr);
      assert.match(lines[0]!, /^usage: wal-e/);
      assert.match(r.stderr, expected);
    });
  }

  it('accepts unique prefixes of long options, interleaved options and --opt=value', async () => {
    const r = await runWalE(['--file-pre=file:///nonexistent/x', '--ter', 'wal-fetch', 'SEG', '--pref', '0', 'DEST']);
    // Parsing succeeded: the run reached the command (not a usage error).
    assert.notEqual(r.code, 2, r.stderr);
  });
});

describe('start-up errors: one clear record and WAL-E exit codes', () => {
  it('no prefix: exit 1 with the WAL-E message', async () => {
    const r = await runWalE(['backup-list']);
    assert.equal(r.code, 1);
    assert.deepEqual(logMessages(r.stderr), [
      { level: 'INFO', msg: 'starting WAL-E' },
      { level: 'ERROR', msg: 'no storage prefix defined' },
    ]);
    assert.match(r.stderr, /DETAIL: The subcommand is "backup-list"\./);
  });

  it('unknown scheme: exit 1, names the scheme', async () => {
    const r = await runWalE(['wal-fetch', 'a', 'b'], { env: { WALE_S3_PREFIX: 'ftp://host/x' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MSG: bad S3, Windows Azure Blob Storage, OpenStack Swift, Google Cloud Storage or File URL scheme passed/);
    assert.match(r.stderr, /DETAIL: The scheme ftp was passed when "s3", "wabs", "swift", "gs", or "file" was expected\./);
  });

  for (const [variable, url, msg] of [
    ['WALE_S3_PREFIX', 's3:///nobucket', /the s3 prefix has no bucket name/],
    ['WALE_WABS_PREFIX', 'wabs://', /the wabs prefix has no container name/],
    ['WALE_GS_PREFIX', 'gs:/x', /the gs prefix has no bucket name/],
    ['WALE_SWIFT_PREFIX', 'swift://', /the swift prefix has no container name/],
    ['WALE_FILE_PREFIX', 'file:relative/dir', /the file prefix must be an absolute directory/],
  ] as const) {
    it(`malformed ${variable}=${url}: exit 1 with a clear message`, async () => {
      const r = await runWalE(['backup-list'], { env: { [variable]: url } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, msg);
    });
  }

  for (const [env, msg] of [
    [{ WALE_S3_PREFIX: 's3://bucket/p' }, 'AWS Access Key credential is required but not provided'],
    [{ WALE_S3_PREFIX: 's3://bucket/p', AWS_ACCESS_KEY_ID: 'AKID', AWS_REGION: 'x' }, 'AWS Secret Key credential is required but not provided'],
    [{ WALE_WABS_PREFIX: 'wabs://container/p' }, 'WABS account name is undefined'],
    [{ WALE_WABS_PREFIX: 'wabs://container/p', WABS_ACCOUNT_NAME: 'acct' }, 'WABS access credentials is required but not provided'],
  ] as const) {
    it(`missing credentials: ${msg}`, async () => {
      const r = await runWalE(['backup-list'], { env });
      assert.equal(r.code, 1);
      assert.deepEqual(logMessages(r.stderr).at(-1), { level: 'ERROR', msg });
      assert.doesNotMatch(r.stderr + r.stdout, /shh-secret/);
    });
  }

  it('invalid AWS_INSTANCE_PROFILE is an error, not a crash', async () => {
    const r = await runWalE(['backup-list'], { env: { WALE_S3_PREFIX: 's3://bucket/p', AWS_INSTANCE_PROFILE: 'yes', AWS_REGION: 'x' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /MSG: invalid value for AWS_INSTANCE_PROFILE/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('two prefixes: the higher one in WAL-E order is used, with a WARNING naming both', async () => {
    const r = await runWalE(['--terse', 'backup-list'], {
      env: { WALE_S3_PREFIX: 's3://bucket/p', WALE_FILE_PREFIX: 'file:///nonexistent-wal-e-test/x' },
    });
    // file:// wins, so no S3 credentials are asked for.
    assert.doesNotMatch(r.stderr, /AWS Access Key/);
    assert.match(r.stderr, /WARNING +MSG: more than one storage prefix is defined\n +DETAIL: Using WALE_FILE_PREFIX; ignoring WALE_S3_PREFIX\./);
  });

  it('no subcommand with a prefix: exit 127 (WAL-E)', async () => {
    const r = await runWalE(['--file-prefix', 'file:///tmp/x']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /MSG: subcommand not implemented\n +DETAIL: The submitted subcommand was None\./);
  });

  it('no subcommand and no prefix: exit 1', async () => {
    const r = await runWalE([]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no storage prefix defined/);
  });

  it('--terse hides INFO records', async () => {
    const r = await runWalE(['--terse', 'backup-list']);
    assert.equal(r.code, 1);
    assert.deepEqual(logMessages(r.stderr), [{ level: 'ERROR', msg: 'no storage prefix defined' }]);
  });

  it('WALE_LOG_DESTINATION without stderr or syslog: bare WARNING+ messages only (Python last resort)', async () => {
    const r = await runWalE(['backup-list'], { env: { WALE_LOG_DESTINATION: 'nowhere' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^MSG: no storage prefix defined\nHINT: /);
    assert.doesNotMatch(r.stderr, /starting WAL-E/);
  });

  it('an invalid WALE_SYSLOG_FACILITY prints WAL-E\'s line and continues', async () => {
    const r = await runWalE(['backup-list'], { env: { WALE_SYSLOG_FACILITY: 'local0,wat' } });
    assert.match(r.stderr, /^invalid syslog facility level specified$/m);
    assert.match(r.stderr, /no storage prefix defined/);
  });
});
