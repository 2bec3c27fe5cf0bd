// WAL-like test data: a 16 MiB file of compressible text with random stretches, so lzop has real work.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function walFile(dir: string, name: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 256; i++) parts.push(Buffer.from(`record ${i} `.repeat(200)), randomBytes(i % 3 === 0 ? 32 * 1024 : 1024));
  const data = Buffer.concat(parts).subarray(0, 16 * 1024 * 1024);
  writeFileSync(join(dir, name), data);
  return data;
}
