// Benchmark runner: times whole commands over several runs, interleaving each candidate with a
// reference command in the same process so that machine noise hits both alike, and reports medians
// and the candidate/reference ratio.
import { spawnSync } from 'node:child_process';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeOnce(cmd, opts) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) {
    throw new Error(`${cmd.join(' ')} exited ${r.status}: ${r.stderr?.toString().slice(0, 500)}`);
  }
  return ms;
}

/**
 * candidates: [{ name, cmd: [argv...], opts? }]; reference: { name, cmd }.
 * Returns rows { name, medianMs, refMedianMs, ratio, runs }.
 */
export function compare({ reference, candidates, runs = 15, warmup = 3 }) {
  const rows = [];
  for (const c of candidates) {
    for (let i = 0; i < warmup; i++) {
      timeOnce(reference.cmd, reference.opts);
      timeOnce(c.cmd, c.opts);
    }
    const ref = [];
    const cand = [];
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first so neither always sees a warmer cache.
      if (i % 2 === 0) {
        ref.push(timeOnce(reference.cmd, reference.opts));
        cand.push(timeOnce(c.cmd, c.opts));
      } else {
        cand.push(timeOnce(c.cmd, c.opts));
        ref.push(timeOnce(reference.cmd, reference.opts));
      }
    }
    const medianMs = median(cand);
    const refMedianMs = median(ref);
    rows.push({ name: c.name, medianMs, refMedianMs, ratio: medianMs / refMedianMs, runs });
  }
  return rows;
}

export function printRows(title, referenceName, rows) {
  console.log(`# ${title}`);
  console.log(`| command | median ms | ${referenceName} median ms | ratio | runs |`);
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.medianMs.toFixed(1)} | ${r.refMedianMs.toFixed(1)} | ${r.ratio.toFixed(2)}x | ${r.runs} |`);
  }
}
