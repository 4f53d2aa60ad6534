/**
 * Reading the environment: the readers every loader uses, and the error they throw. Nothing here knows a
 * variable's meaning; the loaders beside this file do.
 */
import { EcomflowError } from '../errors.js';

/** An environment: `process.env` in the entry points, a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Thrown when required variables are missing or malformed. `missing` names them. */
export class ConfigError extends EcomflowError {
  readonly missing: readonly string[];
  constructor(message: string, missing: readonly string[]) {
    super('invalid_config', message);
    this.name = 'ConfigError';
    this.missing = missing;
  }
}

/** A variable's trimmed value; undefined when unset or blank. */
export function read(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

/**
 * Every named variable, or a ConfigError naming all that are missing at once.
 * @example requireVars({ A: 'x' }, ['A'], 'api').A === 'x'
 */
export function requireVars<const K extends string>(
  env: Env,
  names: readonly K[],
  who: string,
): Record<K, string> {
  const out = {} as Record<K, string>;
  const missing: K[] = [];
  for (const name of names) {
    const value = read(env, name);
    if (value) out[name] = value;
    else missing.push(name);
  }
  if (missing.length > 0) {
    throw new ConfigError(
      `${who}: missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      missing,
    );
  }
  return out;
}

/** An optional size in MiB (fractions allowed, for tests), as bytes. */
export function mebibytes(env: Env, name: string, fallbackMb: number): number {
  const text = read(env, name);
  if (!text) return fallbackMb * (1 << 20);
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive number of MiB, not ${JSON.stringify(text)}`, [name]);
  }
  return Math.round(value * (1 << 20));
}

/** An optional whole number within [min, max]. */
export function wholeNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${text}"`, [name]);
  }
  return value;
}

/**
 * A lazily computed value, computed on first use and then kept: how handlers read configuration and
 * create clients once per container without doing it at import time (tests set the env first).
 */
export function once<T>(make: () => T): () => T {
  let value: { v: T } | undefined;
  return () => {
    if (!value) value = { v: make() };
    return value.v;
  };
}
