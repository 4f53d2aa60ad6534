/**
 * The dashboard's static files: the page (src/dashboard/assets/) and chart.js's UMD build, served by
 * ecomflow itself (no CDN). Only the files named here are served, by exact name: a request can never
 * reach another file, whatever its path says (`..%2F`, an absolute path).
 *
 * The files are found by walking up from this module, as the SQL files are (src/analytics/models.ts): from
 * src/dashboard (tests), dist/dashboard (the CLI) and the API function's bundle, which ships
 * `src/dashboard/assets/**` and chart.js's file beside it (resources/functions/api.yml `package.patterns`).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AssetMissingError, UnknownAssetError } from './errors.js';

/** Where the page's own files are, relative to the repository (or the function's package) root. */
export const ASSETS_DIR = join('src', 'dashboard', 'assets');

/** The Cognito sign-in script, relative to the same root: served as /dashboard/auth.js on AWS. */
export const SIGN_IN_SCRIPT = join('src', 'dashboard', 'sign-in.js');

/** chart.js's UMD build, relative to the same root: served as /dashboard/chart.umd.js. */
export const CHART_JS_FILE = join('node_modules', 'chart.js', 'dist', 'chart.umd.js');

/** The page, served at `GET /`. */
export const DASHBOARD_PAGE = 'index.html';

/** Every file GET /dashboard/{file} serves, with its content type and where it is kept. */
export const DASHBOARD_ASSETS: Readonly<Record<string, { contentType: string; path: string }>> = {
  'index.html': { contentType: 'text/html; charset=utf-8', path: join(ASSETS_DIR, 'index.html') },
  'dashboard.js': { contentType: 'text/javascript; charset=utf-8', path: join(ASSETS_DIR, 'dashboard.js') },
  'dashboard.css': { contentType: 'text/css; charset=utf-8', path: join(ASSETS_DIR, 'dashboard.css') },
  'chart.umd.js': { contentType: 'text/javascript; charset=utf-8', path: CHART_JS_FILE },
  // On AWS the page's auth.js is the Cognito sign-in (hosted UI, PKCE); the local gateway answers that
  // name itself, with a local token, before any route is matched.
  'auth.js': { contentType: 'text/javascript; charset=utf-8', path: SIGN_IN_SCRIPT },
};

/** What sign-in.js fetches beside the page: the API's SignInConfig (ApiConfig.signIn), not a file. */
export const SIGN_IN_CONFIG_FILE = 'auth-config.json';

/** The script the page loads first for its request headers: not a file of ours (the gateway's, or sign-in's). */
export const DASHBOARD_AUTH_SCRIPT = '/dashboard/auth.js';

/** The first ancestor of `from` holding `relative`, or null. */
export function findUp(relative: string, from: string = import.meta.dirname): string | null {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, relative))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export interface Asset {
  contentType: string;
  body: string;
}

/** Read once per process: the files do not change under a running stack or function. */
const read = new Map<string, Promise<Asset>>();

/**
 * One of DASHBOARD_ASSETS by its name.
 * @throws UnknownAssetError for any other name; AssetMissingError when the file is not where it should be
 */
export function readAsset(name: string): Promise<Asset> {
  const asset = Object.hasOwn(DASHBOARD_ASSETS, name) ? DASHBOARD_ASSETS[name] : undefined;
  if (!asset) return Promise.reject(new UnknownAssetError(name));
  let cached = read.get(name);
  if (!cached) {
    const root = findUp(asset.path);
    if (root === null) return Promise.reject(new AssetMissingError(asset.path));
    cached = readFile(join(root, asset.path), 'utf8').then((body) => ({
      contentType: asset.contentType,
      body,
    }));
    cached.catch(() => read.delete(name));
    read.set(name, cached);
  }
  return cached;
}
