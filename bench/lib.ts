import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..');
export const OUT = join(ROOT, 'bench', 'out');

export interface Measured {
  ms: number;
  peakRssMb: number;
  stdout: string;
}

/** Runs a command to completion; wall time and peak RSS of the process (all its threads). */
export async function measureProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'ecomflow-bench-'));
  const rssFile = join(dir, 'rss');
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', join(ROOT, 'bench', 'peak-rss.mjs'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, ECOMFLOW_BENCH_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}`);
  const peakRssMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
  rmSync(dir, { recursive: true, force: true });
  return { ms, peakRssMb, stdout };
}

/** The best of `runs` timings (the least disturbed by the rest of the machine). */
export async function best<T extends { ms: number }>(runs: number, fn: () => Promise<T>): Promise<T> {
  let winner: T | null = null;
  for (let i = 0; i < runs; i++) {
    const result = await fn();
    if (!winner || result.ms < winner.ms) winner = result;
  }
  return winner!;
}

export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

export const fmtMs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
