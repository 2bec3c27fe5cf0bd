// The few OpenPGP (RFC 4880) wire-format pieces wal-e reads and writes itself, without openpgp: packet
// headers, lengths, MPIs and ASCII armor. Used by the native push path (native-recipient.ts,
// native-encrypter.ts) and the RSA session-key step of decryption (rsa-session-key.ts).

export interface Packet {
  tag: number;
  body: Buffer;
}

/** New-format length octets for a body of `n` bytes (RFC 4880 §4.2.2). */
export function lengthOctets(n: number): Buffer {
  if (n < 192) return Buffer.from([n]);
  if (n < 8384) return Buffer.from([((n - 192) >> 8) + 192, (n - 192) & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0xff;
  b.writeUInt32BE(n, 1);
  return b;
}

/** A whole packet in new format with a definite length. */
export function packet(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xc0 | tag]), lengthOctets(body.length), body]);
}

/**
 * All packets of a buffer holding complete packets (a key, an exported keyring). Throws on anything it
 * cannot frame; partial lengths are joined (keys never use them, but it costs nothing to accept).
 */
export function readPackets(buf: Buffer): Packet[] {
  const out: Packet[] = [];
  let p = 0;
  const need = (n: number) => {
    if (p + n > buf.length) throw new Error('truncated OpenPGP packet');
  };
  while (p < buf.length) {
    const ctb = buf[p++]!;
    if ((ctb & 0x80) === 0) throw new Error('not an OpenPGP packet');
    let tag: number;
    let body: Buffer;
    if (ctb & 0x40) {
      tag = ctb & 0x3f;
      const parts: Buffer[] = [];
      for (;;) {
        need(1);
        const o = buf[p++]!;
        let len: number;
        let partial = false;
        if (o < 192) len = o;
        else if (o < 224) {
          need(1);
          len = ((o - 192) << 8) + buf[p++]! + 192;
        } else if (o === 255) {
          need(4);
          len = buf.readUInt32BE(p);
          p += 4;
        } else {
          len = 1 << (o & 0x1f);
          partial = true;
        }
        need(len);
        parts.push(buf.subarray(p, p + len));
        p += len;
        if (!partial) break;
      }
      body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    } else {
      tag = (ctb >> 2) & 0x0f;
      const lt = ctb & 3;
      if (lt === 3) throw new Error('indeterminate-length packet');
      const n = [1, 2, 4][lt]!;
      need(n);
      const len = n === 1 ? buf[p]! : n === 2 ? buf.readUInt16BE(p) : buf.readUInt32BE(p);
      p += n;
      need(len);
      body = buf.subarray(p, p + len);
      p += len;
    }
    out.push({ tag, body });
  }
  return out;
}

/** Reads an MPI at `off`: its magnitude (no leading zeros) and the offset after it. */
export function readMpi(buf: Buffer, off: number): { value: Buffer; next: number } {
  if (off + 2 > buf.length) throw new Error('truncated MPI');
  const bits = buf.readUInt16BE(off);
  const len = (bits + 7) >> 3;
  if (off + 2 + len > buf.length) throw new Error('truncated MPI');
  let value = buf.subarray(off + 2, off + 2 + len);
  let z = 0;
  while (z < value.length && value[z] === 0) z++;
  value = value.subarray(z);
  return { value, next: off + 2 + len };
}

/** An unsigned big-endian integer as an MPI. */
export function mpi(value: Buffer): Buffer {
  let z = 0;
  while (z < value.length && value[z] === 0) z++;
  const v = value.subarray(z);
  const bits = v.length === 0 ? 0 : (v.length - 1) * 8 + (32 - Math.clz32(v[0]!));
  const head = Buffer.alloc(2);
  head.writeUInt16BE(bits);
  return Buffer.concat([head, v]);
}

/**
 * The binary content of ASCII-armored data (all blocks concatenated), or the bytes unchanged when they
 * are not armored. The CRC line is optional in RFC 9580 and not checked: the packets carry their own
 * structure and the key's signatures are verified.
 */
export function dearmor(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1');
  if (!text.includes('-----BEGIN PGP ')) return bytes;
  const out: Buffer[] = [];
  const re = /-----BEGIN PGP [^-\r\n]+-----\r?\n([\s\S]*?)-----END PGP [^-\r\n]+-----/g;
  for (const m of text.matchAll(re)) {
    const lines = m[1]!.split(/\r?\n/);
    // Armor headers ("Comment: ...") end at the first empty line.
    const blank = lines.findIndex((l) => l.trim() === '');
    const hasHeaders = blank >= 0 && lines.slice(0, blank).every((l) => /^[A-Za-z-]+: /.test(l));
    const data = (hasHeaders ? lines.slice(blank + 1) : lines).filter((l) => l.trim() !== '' && !l.startsWith('='));
    out.push(Buffer.from(data.join(''), 'base64'));
  }
  if (out.length === 0) throw new Error('malformed ASCII armor');
  return Buffer.concat(out);
}
