// The commander program built from spec.ts, behaving as WAL-E's argparse parser does: global options
// before the subcommand, delete's options before the delete subcommand, help on stdout with exit 0,
// usage errors as "usage: ..." + "wal-e CMD: error: ..." on stderr with exit 2.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { GlobalFlags } from '../config/config';
import { UsageError } from '../util/errors';
import { expandAbbreviations } from './abbreviations';
import { COMMANDS, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './spec';

export interface Invocation {
  /** "wal-push", "delete retain", ... or "" when no subcommand was given. */
  command: string;
  args: string[];
  options: Record<string, unknown>;
  global: GlobalFlags;
}

/** Help was printed; the process should exit 0. */
export class HelpShown extends Error {}

function parseInteger(value: string): number {
  if (!/^\s*[-+]?\d+\s*$/.test(value)) throw new InvalidArgumentError(`invalid int value: '${value}'`);
  return Number.parseInt(value, 10);
}

function toOption(spec: OptionSpec): Option {
  const flags = `${spec.short ? `-${spec.short}, ` : ''}--${spec.long}${spec.value ? ` <${spec.value}>` : ''}`;
  const o = new Option(flags, spec.help);
  if (spec.integer) o.argParser(parseInteger);
  if (spec.default !== undefined) o.default(spec.default);
  return o;
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function configure(cmd: Command): Command {
  return cmd
    .exitOverride()
    .helpOption('-h, --help', 'show this help message and exit')
    .showSuggestionAfterError(false)
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      // Errors are reported by the CLI's handler from the thrown CommanderError, argparse-style.
      outputError: () => undefined,
    });
}

/** Parses argv (without node and script); throws UsageError or HelpShown. */
export function parseCommandLine(argv: readonly string[]): Invocation {
  let invocation: Invocation | undefined;
  const program = configure(new Command('wal-e'))
    .description('Continuous archiving of PostgreSQL: WAL segments and base backups to object storage')
    .enablePositionalOptions()
    .allowExcessArguments(true)
    .usage('[options] {' + COMMANDS.map((c) => c.name).join(',') + '} ...');
  for (const spec of GLOBAL_OPTIONS) {
    const o = toOption(spec);
    if (spec.long === 'aws-access-key-id') o.conflicts('awsInstanceProfile');
    program.addOption(o);
  }
  program.action(() => {
    if (program.args.length > 0) {
      throw new UsageError(
        `argument subcommand: invalid choice: '${program.args[0]}' (choose from ${COMMANDS.map((c) => `'${c.name}'`).join(', ')})`,
        'wal-e',
      );
    }
    invocation = { command: '', args: [], options: {}, global: program.opts() };
  });

  const addCommand = (parent: Command, spec: CommandSpec, prefix: string): void => {
    const cmd = configure(new Command(spec.name)).description(spec.help);
    for (const a of spec.args) cmd.argument(a);
    for (const o of spec.options) cmd.addOption(toOption(o));
    if (spec.subcommands) {
      cmd.enablePositionalOptions();
      for (const sub of spec.subcommands) addCommand(cmd, sub, `${prefix}${spec.name} `);
      cmd.action(() => {
        // WAL-E crashed here (exit 1); say what is missing instead.
        throw new UsageError(
          `a delete subcommand is required (choose from ${spec.subcommands!.map((s) => `'${s.name}'`).join(', ')})`,
          commandPath(cmd),
        );
      });
    } else {
      cmd.action((...received: unknown[]) => {
        // A variadic last positional ("[SEGMENT...]") arrives as an array.
        const args = received.slice(0, spec.args.length).flat().filter((a): a is string => typeof a === 'string');
        const options = { ...(parent.opts() as Record<string, unknown>), ...cmd.opts() };
        invocation = { command: `${prefix}${spec.name}`, args, options, global: program.opts() };
      });
    }
    parent.addCommand(cmd);
  };
  for (const spec of COMMANDS) addCommand(program, spec, '');

  try {
    program.parse(expandAbbreviations(argv), { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') {
        throw new HelpShown();
      }
      const msg = err.message.replace(/^error: /, '');
      let upTo = argv.length;
      const unknown = /^unknown option '([^']*)'/.exec(msg);
      if (unknown) upTo = argv.findIndex((t) => t === unknown[1] || t.startsWith(`${unknown[1]}=`));
      const path = err.code === 'commander.conflictingOption' ? 'wal-e' : currentCommandPath(program, argv.slice(0, upTo));
      throw new UsageError(argparseWording(msg), path);
    }
    throw err;
  }
  if (!invocation) throw new UsageError('the command line could not be parsed', 'wal-e');
  return invocation;
}

/** Commander's messages reworded the way argparse puts them, so scripts that grep keep working. */
function argparseWording(msg: string): string {
  let m: RegExpExecArray | null;
  if ((m = /^unknown option '(.*)'$/.exec(msg))) return `unrecognized arguments: ${m[1]}`;
  if ((m = /^missing required argument '(.*)'$/.exec(msg))) return `the following arguments are required: ${m[1]}`;
  if ((m = /^too many arguments(?: for '.*')?\. Expected (\d+) arguments? but got (\d+)\.$/.exec(msg))) {
    return `unrecognized arguments (expected ${m[1]}, got ${m[2]})`;
  }
  if ((m = /^option '(.*)' argument missing$/.exec(msg))) return `argument ${argparseName(m[1]!)}: expected one argument`;
  if ((m = /^option '(.*)' argument '(.*)' is invalid\. (.*)$/.exec(msg))) {
    return `argument ${argparseName(m[1]!)}: ${m[3]}`;
  }
  if ((m = /^option '(.*)' cannot be used with option '(.*)'$/.exec(msg))) {
    return `argument ${argparseName(m[2]!)}: not allowed with argument ${argparseName(m[1]!)}`;
  }
  return msg;
}

/** "-p, --pool-size <POOL_SIZE>" -> "--pool-size/-p", argparse's way of naming an option. */
function argparseName(flags: string): string {
  const bare = flags.replace(/ <.*>$/, '');
  const m = /^(-\w), (--[\w-]+)$/.exec(bare);
  return m ? `${m[2]}/${m[1]}` : bare;
}

function currentCommandPath(program: Command, argv: readonly string[]): string {
  let cmd: Command = program;
  for (const tok of argv) {
    const sub = cmd.commands.find((c) => c.name() === tok);
    if (sub) cmd = sub;
  }
  return commandPath(cmd);
}

/** The usage line of a (sub)command path, as argparse prints before an error. */
export function usageFor(path: string): string {
  const names = path.split(' ').slice(1);
  let spec: CommandSpec | undefined;
  let list: CommandSpec[] | undefined = COMMANDS;
  for (const n of names) {
    spec = list?.find((c) => c.name === n);
    list = spec?.subcommands;
  }
  if (!spec) return `usage: wal-e [-h] [options] {${COMMANDS.map((c) => c.name).join(',')}} ...`;
  const opts = spec.options.map((o) => `[${o.short ? '-' + o.short : '--' + o.long}${o.value ? ' ' + o.value : ''}]`);
  const args = spec.args.map((a) => a.replace(/^<(.*)>$/, '$1'));
  const subs = spec.subcommands ? [`{${spec.subcommands.map((s) => s.name).join(',')}} ...`] : [];
  return ['usage:', path, '[-h]', ...opts, ...args, ...subs].join(' ');
}
