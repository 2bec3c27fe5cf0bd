// The top level: parse, configure logging, build Config, run one command, and turn every outcome into
// WAL-E's output and exit code (spec §1.8, §1.9). Nothing escapes as a raw stack trace.
import { buildConfig, isDebug, logSettings } from '../config/config';
import { processEnv } from '../config/env';
import { COMMAND_IMPLS } from '../commands/registry';
import { configureLogging, flushLogs, getLogger } from '../log/logger';
import { installSignalHandlers, runCleanups, runShutdownHooks } from '../util/cleanup';
import { UsageError, WalEError } from '../util/errors';
import { VERSION } from '../version';
import { HelpShown, parseCommandLine, usageFor, type Invocation } from './program';

const mainLog = getLogger('wal_e.main');

/** Commands that skip the "starting WAL-E" line, as WAL-E did: they run once per WAL file. */
const QUIET_START = new Set(['wal-push', 'wal-fetch', 'wal-prefetch', '']);

export async function run(argv: readonly string[]): Promise<number> {
  installSignalHandlers();
  const env = processEnv();
  let inv: Invocation;
  try {
    inv = parseCommandLine(argv);
  } catch (err) {
    if (err instanceof HelpShown) return 0;
    if (err instanceof UsageError) {
      process.stderr.write(`${usageFor(err.commandPath)}\n${err.commandPath}: error: ${err.message}\n`);
      return 2;
    }
    return reportUnexpected(err, isDebug(env));
  }

  if (inv.command === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }

  configureLogging(logSettings(env, inv.global.terse === true));
  if (!QUIET_START.has(inv.command)) {
    mainLog.info('starting WAL-E', { detail: `The subcommand is "${inv.command}".` });
  }
  process.title = inv.command ? `wal-e ${inv.command}` : 'wal-e';

  try {
    const config = buildConfig(inv.global, env);
    if (config.ignoredPrefixSources.length > 0) {
      mainLog.warning('more than one storage prefix is defined', {
        detail: `Using ${config.prefixSource}; ignoring ${config.ignoredPrefixSources.join(', ')}.`,
        hint: 'Define only one prefix; WAL-E picks the first of --file-prefix, --gs-prefix, --s3-prefix, ' +
          '--wabs-prefix, WALE_FILE_PREFIX, WALE_GS_PREFIX, WALE_S3_PREFIX, WALE_SWIFT_PREFIX, WALE_WABS_PREFIX.',
      });
    }
    if (inv.command === '') {
      mainLog.error('subcommand not implemented', {
        detail: 'The submitted subcommand was None.',
        hint: 'Check for typos or consult wal-e --help.',
      });
      return 127;
    }
    const load = COMMAND_IMPLS[inv.command];
    if (!load) throw new Error(`no implementation registered for ${inv.command}`);
    const impl = await load();
    const code = await impl(config, inv);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    if (err instanceof WalEError) {
      const o = { detail: err.detail, hint: err.hint };
      if (err.level === 'CRITICAL') mainLog.critical(err.message, o);
      else mainLog.error(err.message, o);
      return err.exitCode;
    }
    return reportUnexpected(err, isDebug(env));
  }
}

function reportUnexpected(err: unknown, debug: boolean): number {
  const e = err instanceof Error ? err : new Error(String(err));
  const where = e.stack?.split('\n')[1]?.trim();
  mainLog.critical('An unprocessed exception has avoided all error handling', {
    detail: debug ? (e.stack ?? `${e.name}: ${e.message}`) : `${e.name}: ${e.message}${where ? ` (${where.replace(/^at /, 'at ')})` : ''}`,
    hint: debug ? undefined : 'Set WALE_DEBUG=1 to log the full stack trace.',
  });
  return 2;
}

/** Runs and exits, after clean-ups, log flushing and stdout draining. */
export async function main(): Promise<void> {
  // If the event loop ever empties while the command is still pending (a stream that stalled), Node
  // would exit 0: that must never pass for success.
  const stalled = () => {
    mainLog.critical('An unprocessed exception has avoided all error handling', {
      detail: 'The operation stopped making progress before it completed.',
    });
    runCleanups();
    process.exit(2);
  };
  process.once('beforeExit', stalled);
  let code: number;
  try {
    code = await run(process.argv.slice(2));
  } catch (err) {
    code = reportUnexpected(err, false);
  }
  process.removeListener('beforeExit', stalled);
  runCleanups();
  // Stop worker threads in order (drain, terminate, wait) rather than letting process.exit tear
  // down threads that may be inside WebAssembly.
  await runShutdownHooks();
  await flushLogs();
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
