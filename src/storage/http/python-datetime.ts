// WAL-E printed WABS and GS last-modified values as Python tz-aware datetimes (spec §5.6):
// "2017-02-01 19:58:55+00:00", or "2017-02-01 19:58:55.123000+00:00" when there is a fraction.
export function pythonUtcDatetimeText(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2017-02-01T19:58:55.123Z
  const base = iso.slice(0, 19).replace('T', ' ');
  const millis = ms - Math.floor(ms / 1000) * 1000;
  return millis === 0 ? `${base}+00:00` : `${base}.${String(millis).padStart(3, '0')}000+00:00`;
}
