// openpgp is large; only a run with a key id configured pays for loading it, and only once.
type OpenPgp = typeof import('openpgp');

let loading: Promise<OpenPgp> | undefined;

export function loadOpenPgp(): Promise<OpenPgp> {
  loading ??= import('openpgp');
  return loading;
}

/** The settings every operation shares: what GnuPG 2.2 reads and writes (spec §4.3, §7 item 27). */
export function gnupg22Config(openpgp: OpenPgp) {
  return {
    // The payload is lzop already; WAL-E ran `gpg -z 0`.
    preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
    // SEIPD v1 with MDC: GnuPG 2.2 cannot read AEAD (v2) packets.
    aeadProtect: false,
    preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
    // Keys GnuPG 2.2 accepts: older WAL-E set-ups may hold RSA-1024 or ElGamal encryption subkeys.
    minRSABits: 1024,
    rejectPublicKeyAlgorithms: new Set<number>(),
  };
}
