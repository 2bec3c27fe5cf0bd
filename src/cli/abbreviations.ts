// argparse accepts any unique prefix of a long option (`--s3` for `--s3-prefix`, spec §1.1); commander
// does not. This pass rewrites abbreviations per parser level before commander sees argv.
import { UsageError } from '../util/errors';
import { COMMANDS, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './spec';

interface Level {
  path: string;
  options: OptionSpec[];
  subcommands: CommandSpec[] | undefined;
}

function levelOf(path: string, options: OptionSpec[], subcommands: CommandSpec[] | undefined): Level {
  return { path, options: [...options, { long: 'help', short: 'h', help: '' }], subcommands };
}

export function expandAbbreviations(argv: readonly string[]): string[] {
  const out: string[] = [];
  let level = levelOf('wal-e', GLOBAL_OPTIONS, COMMANDS);
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (tok.startsWith('--')) {
      const eq = tok.indexOf('=');
      const name = tok.slice(2, eq === -1 ? undefined : eq);
      let opt = level.options.find((o) => o.long === name);
      if (!opt) {
        const matches = level.options.filter((o) => o.long.startsWith(name));
        if (matches.length > 1) {
          throw new UsageError(
            `ambiguous option: --${name} could match ${matches.map((m) => '--' + m.long).join(', ')}`,
            level.path,
          );
        }
        opt = matches[0];
      }
      if (!opt) {
        out.push(tok);
        continue;
      }
      out.push(eq === -1 ? `--${opt.long}` : `--${opt.long}${tok.slice(eq)}`);
      if (opt.value !== undefined && eq === -1 && i + 1 < argv.length) out.push(argv[++i]!);
      continue;
    }
    if (tok.startsWith('-') && tok.length > 1) {
      out.push(tok);
      const opt = level.options.find((o) => o.short === tok[1]);
      if (opt?.value !== undefined && tok.length === 2 && i + 1 < argv.length) out.push(argv[++i]!);
      continue;
    }
    out.push(tok);
    const sub = level.subcommands?.find((c) => c.name === tok);
    if (sub) level = levelOf(`${level.path} ${sub.name}`, sub.options, sub.subcommands);
    else if (level.subcommands) level = levelOf(level.path, level.options, undefined);
  }
  return out;
}
