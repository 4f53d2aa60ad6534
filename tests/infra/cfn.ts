/**
 * Reading a packaged CloudFormation template in tests: running `serverless package`, walking intrinsic
 * functions, and turning IAM policies into an action -> resources map that can be compared with `toEqual`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Resource {
  Type: string;
  Properties?: JsonObject;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export interface Template {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, Json>;
  Outputs?: Record<string, Json>;
}

/**
 * Runs `serverless package` for a stage into a fresh temporary directory and returns the update template.
 * osls needs no credentials and no network for `package`; serverless-esbuild bundles in-process.
 */
export function packageTemplate(
  repoRoot: string,
  stage: string,
  extraArgs: readonly string[] = [],
): { template: Template; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ecomflow-package-'));
  const cli = join(repoRoot, 'node_modules', 'osls', 'bin', 'serverless.js');
  try {
    execFileSync(process.execPath, [cli, 'package', '--stage', stage, '--package', dir, ...extraArgs], {
      cwd: repoRoot,
      // A clean environment: no AWS credentials or profile (package must not need them), no NODE_OPTIONS
      // from jest.
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? tmpdir(),
        ECOMFLOW_ESBUILD_WORKDIR: join('.esbuild', `template-test-${process.pid}-${extraArgs.length}`),
      },
      stdio: 'pipe',
      timeout: 170_000,
    });
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `serverless package --stage ${stage} failed:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`,
      { cause: error },
    );
  }
  // serverless-esbuild removed its own work folder; drop the parent too unless another build is using it.
  const workRoot = join(repoRoot, '.esbuild');
  if (existsSync(workRoot) && readdirSync(workRoot).length === 0) rmdirSync(workRoot);
  const text = readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8');
  return { template: JSON.parse(text) as Template, dir };
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows a path of keys and indexes; throws naming the first missing step, so a test failure says where. */
export function at(value: Json | undefined, ...path: (string | number)[]): Json {
  let current: Json | undefined = value;
  const walked: (string | number)[] = [];
  for (const step of path) {
    walked.push(step);
    if (typeof step === 'number' && Array.isArray(current)) current = current[step];
    else if (typeof step === 'string' && isObject(current)) current = current[step];
    else current = undefined;
    if (current === undefined) throw new Error(`no value at ${walked.join('.')}`);
  }
  if (current === undefined) throw new Error('no value');
  return current;
}

/** Every value in a JSON tree, depth first, with the key it sits under (`''` for array items). */
export function* walk(value: Json, key = ''): Generator<{ key: string; value: Json }> {
  yield { key, value };
  if (Array.isArray(value)) for (const v of value) yield* walk(v, '');
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) yield* walk(v, k);
}

/**
 * A stable text for a value that may hold intrinsic functions, for comparing policy resources:
 * `{Ref: X}` -> `X`, `{Fn::GetAtt: [X, Arn]}` -> `X.Arn`, `{Fn::Sub: s}` -> `s`, `{Fn::Join: ['', parts]}`
 * -> the parts, described and joined.
 * @example describe({ 'Fn::GetAtt': ['IngestStream', 'Arn'] }) === 'IngestStream.Arn'
 */
export function describe(value: Json): string {
  if (typeof value === 'string') return value;
  if (isObject(value)) {
    const ref = value['Ref'];
    if (typeof ref === 'string') return ref;
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return getAtt.map((p) => describe(p)).join('.');
    if (typeof getAtt === 'string') return getAtt;
    const sub = value['Fn::Sub'];
    if (typeof sub === 'string') return sub;
    const join = value['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
      return join[1].map((p) => describe(p)).join(join[0]);
    }
  }
  throw new Error(`cannot describe ${JSON.stringify(value)}`);
}

export interface Statement {
  Effect: string;
  Action: string[];
  Resource: Json[];
  raw: JsonObject;
}

/** The statements of a role's inline policies, with Action and Resource always arrays. */
export function roleStatements(role: Resource): Statement[] {
  const policies = role.Properties?.['Policies'];
  if (!Array.isArray(policies)) return [];
  const out: Statement[] = [];
  for (const policy of policies) {
    const statements = at(policy, 'PolicyDocument', 'Statement');
    if (!Array.isArray(statements)) throw new Error('Statement is not an array');
    for (const s of statements) {
      if (!isObject(s)) throw new Error(`statement is not an object: ${JSON.stringify(s)}`);
      const action = s['Action'];
      const resource = s['Resource'];
      out.push({
        Effect: String(s['Effect']),
        Action: (Array.isArray(action) ? action : [action ?? null]).map((a) => String(a)),
        Resource: Array.isArray(resource) ? resource : [resource ?? null],
        raw: s,
      });
    }
  }
  return out;
}

/** action -> sorted described resources, over all Allow statements of a role. */
export function actionMap(role: Resource): Record<string, string[]> {
  const map: Record<string, Set<string>> = {};
  for (const s of roleStatements(role)) {
    if (s.Effect !== 'Allow') continue;
    for (const action of s.Action) {
      map[action] ??= new Set();
      for (const r of s.Resource) map[action].add(describe(r));
    }
  }
  return Object.fromEntries(
    Object.entries(map)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([a, rs]) => [a, [...rs].sort()]),
  );
}

/** Same shape as `actionMap`, from an expected table with the resources in any order. */
export function normalise(expected: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(expected)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([a, rs]) => [a, [...rs].sort()]),
  );
}

/** The `${...}` references of an `Fn::Sub` string, without `${!literal}` escapes. */
export function subReferences(text: string): string[] {
  return [...text.matchAll(/\$\{([^}!][^}]*)\}/g)].map((m) => m[1] ?? '');
}

/** `METHOD /path` for every API Gateway method, rebuilding paths from the resource tree. */
export function apiRoutes(template: Template): Map<string, Resource> {
  const resources = template.Resources;
  const pathOf = (id: Json): string => {
    const name = describe(id);
    if (name === 'ApiGatewayRestApi.RootResourceId') return '';
    const resource = resources[name];
    if (!resource?.Properties) throw new Error(`no API resource ${name}`);
    return `${pathOf(at(resource.Properties, 'ParentId'))}/${String(at(resource.Properties, 'PathPart'))}`;
  };
  const routes = new Map<string, Resource>();
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::ApiGateway::Method' || !resource.Properties) continue;
    const method = String(at(resource.Properties, 'HttpMethod'));
    // The root resource's path is `/` (its own path part is empty).
    routes.set(`${method} ${pathOf(at(resource.Properties, 'ResourceId')) || '/'}`, resource);
  }
  return routes;
}

/**
 * Whether a Data API resource ARN names the workgroup or cluster an endpoint host names: same kind, region
 * and (serverless) account, and for a cluster the same name. A workgroup's ARN holds its id, which the
 * host does not show, so for a workgroup only the kind, region and account can be compared.
 * @example arnMatchesHost('arn:aws:redshift:eu-west-1:1:cluster:wh', 'wh.abc.eu-west-1.redshift.amazonaws.com') === true
 */
export function arnMatchesHost(arn: string, host: string): boolean {
  const serverless =
    /^arn:aws[a-z-]*:redshift-serverless:([a-z0-9-]+):(\d{12}):workgroup\/[0-9a-f-]{36}$/.exec(arn);
  if (serverless) {
    const h = /^[a-z0-9-]+\.(\d{12})\.([a-z0-9-]+)\.redshift-serverless\.amazonaws\.com$/.exec(host);
    return h !== null && h[2] === serverless[1] && h[1] === serverless[2];
  }
  const cluster = /^arn:aws[a-z-]*:redshift:([a-z0-9-]+):\d{12}:cluster:([a-z0-9-]+)$/.exec(arn);
  if (cluster) {
    const h = /^([a-z0-9-]+)\.[^.]+\.([a-z0-9-]+)\.redshift\.amazonaws\.com$/.exec(host);
    return h !== null && h[1] === cluster[2] && h[2] === cluster[1];
  }
  return false;
}
