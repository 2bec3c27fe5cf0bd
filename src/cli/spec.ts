// WAL-E 1.1.1's command-line surface (spec §1.2, §1.3) as data: the commander program, the long-option
// abbreviation pass and the tests all read this one table.

export interface OptionSpec {
  /** Long name without dashes, e.g. "pool-size". */
  long: string;
  short?: string;
  /** Metavariable for options that take a value; absent for flags. */
  value?: string;
  integer?: boolean;
  default?: number | boolean;
  help: string;
}

export interface CommandSpec {
  name: string;
  /** Positionals as commander spells them: "<WAL_SEGMENT>", "[QUERY]". */
  args: string[];
  options: OptionSpec[];
  help: string;
  subcommands?: CommandSpec[];
}

export const GLOBAL_OPTIONS: OptionSpec[] = [
  { long: 'aws-access-key-id', short: 'k', value: 'AWS_ACCESS_KEY_ID', help: 'public AWS access key. Can also be defined in an environment variable. If both are defined, the one defined in the programs arguments takes precedence.' },
  { long: 'aws-instance-profile', help: 'Use the IAM Instance Profile associated with this instance to authenticate with the S3 API.' },
  { long: 'gs-access-key-id', value: 'GS_ACCESS_KEY_ID', help: 'public GS access key. Accepted for compatibility and ignored: Google Cloud Storage uses application default credentials.' },
  { long: 'wabs-account-name', short: 'a', value: 'WABS_ACCOUNT_NAME', help: 'Account name of Windows Azure Blob Service account. Can also be defined in an environment variable. If both are defined, the one defined in the programs arguments takes precedence.' },
  { long: 's3-prefix', value: 'S3_PREFIX', help: 'S3 prefix to run all commands against. Can also be defined via environment variable WALE_S3_PREFIX.' },
  { long: 'wabs-prefix', value: 'WABS_PREFIX', help: 'Storage prefix to run all commands against. Can also be defined via environment variable WALE_WABS_PREFIX.' },
  { long: 'gs-prefix', value: 'GS_PREFIX', help: 'Storage prefix to run all commands against. Can also be defined via environment variable WALE_GS_PREFIX.' },
  { long: 'file-prefix', value: 'FILE_PREFIX', help: 'Storage prefix to run all commands against. Can also be defined via environment variable WALE_FILE_PREFIX.' },
  { long: 'gpg-key-id', value: 'GPG_KEY_ID', help: 'GPG key ID to encrypt to. (Also needed when decrypting.) Can also be defined via environment variable WALE_GPG_KEY_ID' },
  { long: 'terse', help: 'Only log messages as or more severe than a warning.' },
];

const poolSize = (dflt: number, help: string): OptionSpec => ({
  long: 'pool-size', short: 'p', value: 'POOL_SIZE', integer: true, default: dflt, help,
});

export const COMMANDS: CommandSpec[] = [
  { name: 'version', args: [], options: [], help: 'print the wal-e version' },
  {
    name: 'backup-fetch',
    args: ['<PG_CLUSTER_DIRECTORY>', '<BACKUP_NAME>'],
    help: 'fetch a hot backup from storage',
    options: [
      { long: 'blind-restore', help: 'Restore from backup without verification of tablespace symlinks' },
      { long: 'restore-spec', value: 'RESTORE_SPEC', help: 'Specification for the directory structure of the database restoration (optional, see README for more information).' },
      poolSize(4, 'Download pooling size'),
    ],
  },
  {
    name: 'backup-list',
    args: ['[QUERY]'],
    help: 'list backups in storage',
    options: [{ long: 'detail', help: 'show more detailed information about every backup' }],
  },
  {
    name: 'backup-push',
    args: ['<PG_CLUSTER_DIRECTORY>'],
    help: 'pushing a fresh hot backup to storage',
    options: [
      { long: 'cluster-read-rate-limit', value: 'BYTES_PER_SECOND', integer: true, help: 'Rate limit reading the PostgreSQL cluster directory to a tunable number of bytes per second' },
      { long: 'while-offline', help: 'Backup a Postgres cluster that is in a stopped state (for example, a replica that you stop and restart when taking a backup)' },
      poolSize(4, 'Upload pooling size'),
    ],
  },
  {
    name: 'wal-fetch',
    args: ['<WAL_SEGMENT>', '<WAL_DESTINATION>'],
    help: 'fetch a WAL file from storage',
    options: [
      { long: 'prefetch', short: 'p', value: 'PREFETCH', integer: true, default: 8, help: 'Prefetch this many WAL segments ahead; 0 disables prefetching' },
    ],
  },
  {
    name: 'wal-prefetch',
    // Extra segments are wal-e's superset of WAL-E's CLI: wal-fetch starts one process for a batch.
    args: ['<BASE_DIRECTORY>', '<SEGMENT>', '[SEGMENT...]'],
    help: 'Prefetch WAL',
    options: [],
  },
  {
    name: 'wal-push',
    args: ['<WAL_SEGMENT>'],
    help: 'push a WAL file to storage',
    options: [poolSize(32, 'Set the maximum number of concurrent transfers')],
  },
  {
    name: 'delete',
    args: [],
    help: 'operators to destroy specified data in storage',
    options: [
      { long: 'dry-run', short: 'n', help: 'Only print what would be deleted, do not actually delete anything' },
      { long: 'confirm', help: 'Actually delete data.  By default, a dry run is performed.  Overridden by --dry-run.' },
    ],
    subcommands: [
      { name: 'before', args: ['<BEFORE_SEGMENT_EXCLUSIVE>'], options: [], help: 'Delete data before a given base backup name' },
      { name: 'retain', args: ['<NUM_TO_RETAIN>'], options: [], help: 'Delete backups and WAL segments, retaining a given number of the most recent backups' },
      { name: 'old-versions', args: [], options: [], help: 'Delete all old versions of WAL-E backup files.  One probably wants to ensure that they take a new backup with the new format first.  This is useful after a WAL-E major release upgrade.' },
      { name: 'everything', args: [], options: [], help: 'Delete all data in the named storage prefix.  Use with care.' },
    ],
  },
];
