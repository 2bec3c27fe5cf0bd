// The key names `gpg -r` accepts, so a WALE_GPG_KEY_ID that worked with WAL-E picks the same key here:
// fingerprints (with or without spaces), long and short key ids (optionally 0x-prefixed), a trailing
// "!" to force that exact (sub)key, and user-id forms ("=exact", "<email>", "@part", plain substring).
// Pure string work: it runs before, and without, openpgp.

export type KeySpec =
  | { kind: 'fingerprint' | 'long-id' | 'short-id'; hex: string; exact: boolean }
  | { kind: 'user-id'; mode: 'exact' | 'email' | 'email-part' | 'substring'; text: string };

export function parseKeySpec(raw: string): KeySpec {
  const spec = raw.trim();
  let hex = spec;
  let exact = false;
  if (hex.endsWith('!')) {
    exact = true;
    hex = hex.slice(0, -1);
  }
  hex = hex.replace(/^0x/i, '');
  const compact = hex.replace(/\s+/g, '');
  if (/^[0-9a-f]+$/i.test(compact)) {
    const h = compact.toLowerCase();
    if (h.length === 40 || h.length === 64) return { kind: 'fingerprint', hex: h, exact };
    if (h.length === 16) return { kind: 'long-id', hex: h, exact };
    if (h.length === 8 && compact === hex) return { kind: 'short-id', hex: h, exact };
  }
  if (spec.startsWith('=')) return { kind: 'user-id', mode: 'exact', text: spec.slice(1) };
  if (spec.startsWith('<')) return { kind: 'user-id', mode: 'email', text: spec.replace(/^<|>$/g, '').toLowerCase() };
  if (spec.startsWith('@')) return { kind: 'user-id', mode: 'email-part', text: spec.slice(1).toLowerCase() };
  return { kind: 'user-id', mode: 'substring', text: spec.replace(/^\*/, '').toLowerCase() };
}

/** Does a (sub)key with this fingerprint and key id answer to a hex spec? */
export function hexMatches(spec: KeySpec, fingerprint: string, keyId: string): boolean {
  switch (spec.kind) {
    case 'fingerprint':
      return fingerprint.toLowerCase() === spec.hex;
    case 'long-id':
      return keyId.toLowerCase() === spec.hex;
    case 'short-id':
      return keyId.toLowerCase().endsWith(spec.hex);
    default:
      return false;
  }
}

/** Does a user id ("Name (comment) <email>") answer to a user-id spec? */
export function userIdMatches(spec: KeySpec, userId: string): boolean {
  if (spec.kind !== 'user-id') return false;
  const email = /<([^>]*)>\s*$/.exec(userId)?.[1]?.toLowerCase();
  switch (spec.mode) {
    case 'exact':
      return userId === spec.text;
    case 'email':
      return email === spec.text;
    case 'email-part':
      return email !== undefined && email.includes(spec.text);
    default:
      return spec.text !== '' && userId.toLowerCase().includes(spec.text);
  }
}
