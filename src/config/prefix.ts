// Which storage prefix is used (spec §1.5): the first non-empty of the four options, then the five
// variables, in WAL-E's order. The backend follows the chosen URL's scheme, not its source.
import { UserError } from '../util/errors';

export interface PrefixCandidate {
  /** Where it came from, as a user would name it: "--s3-prefix" or "WALE_S3_PREFIX". */
  source: string;
  value: string | undefined;
}

export interface PrefixChoice {
  value: string;
  source: string;
  /** Other non-empty candidates that lost, for the WARNING the CLI logs. */
  ignored: PrefixCandidate[];
}

export const PREFIX_ENV_ORDER = [
  'WALE_FILE_PREFIX',
  'WALE_GS_PREFIX',
  'WALE_S3_PREFIX',
  'WALE_SWIFT_PREFIX',
  'WALE_WABS_PREFIX',
] as const;

export const NO_PREFIX_HINT =
  'Either set one of the --file-prefix, --gs-prefix, --s3-prefix or --wabs-prefix options or define one of ' +
  'the WALE_FILE_PREFIX, WALE_GS_PREFIX, WALE_S3_PREFIX, WALE_SWIFT_PREFIX or WALE_WABS_PREFIX, environment variables.';

export function choosePrefix(candidates: readonly PrefixCandidate[]): PrefixChoice {
  const set = candidates.filter((c) => c.value !== undefined && c.value !== '');
  const first = set[0];
  if (first !== undefined) {
    return { value: first.value as string, source: first.source, ignored: set.slice(1) };
  }
  // WAL-E quirk kept: an empty WALE_WABS_PREFIX, when nothing else is set, is "the prefix" and then
  // fails the scheme check rather than reporting that no prefix is defined.
  const wabs = candidates.find((c) => c.source === 'WALE_WABS_PREFIX');
  if (wabs?.value === '') return { value: '', source: wabs.source, ignored: [] };
  throw new UserError('no storage prefix defined', { hint: NO_PREFIX_HINT });
}
