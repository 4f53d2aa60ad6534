/**
 * The AWS actions a handler can actually call, read from its esbuild bundle: the bundle keeps only the code
 * the handler reaches (tree shaking), so a `new XCommand(...)` left in one of our `src/` modules is a call
 * the function can make. Each command is mapped to its IAM action through the module it is imported from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

/** IAM prefix of the SDK packages our code may import commands from. */
const SDK_SERVICES: Record<string, string> = {
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/lib-dynamodb': 'dynamodb',
  '@aws-sdk/client-firehose': 'firehose',
  '@aws-sdk/client-kinesis': 'kinesis',
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-sqs': 'sqs',
  '@aws-sdk/client-athena': 'athena',
  '@aws-sdk/client-lambda': 'lambda',
  '@aws-sdk/client-redshift-data': 'redshift-data',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
};

/** S3 operations authorised by an IAM action of another name (the rest share their operation's name). */
const S3_ACTIONS: Record<string, string> = {
  HeadObject: 'GetObject',
  HeadBucket: 'ListBucket',
  ListObjectsV2: 'ListBucket',
  CreateMultipartUpload: 'PutObject',
  UploadPart: 'PutObject',
  CompleteMultipartUpload: 'PutObject',
  // DeleteObjects (a batch of keys) is authorised key by key with s3:DeleteObject; there is no
  // s3:DeleteObjects action (S3 API reference, DeleteObjects, "Permissions").
  DeleteObjects: 'DeleteObject',
};

/** Lambda operations authorised by an IAM action of another name: Invoke is lambda:InvokeFunction. */
const LAMBDA_ACTIONS: Record<string, string> = { Invoke: 'InvokeFunction' };

/** lib-dynamodb's document commands and the DynamoDB operation (IAM action) each one sends. */
const DOCUMENT_COMMANDS: Record<string, string> = {
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  Delete: 'DeleteItem',
  Get: 'GetItem',
  Put: 'PutItem',
  Query: 'Query',
  Scan: 'Scan',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
  Update: 'UpdateItem',
};

/** `XCommand` -> the `@aws-sdk/*` module a source file imports it from (value imports only). */
function importedCommands(source: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of source.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+'(@aws-sdk\/[^']+)'/g)) {
    const [, typeOnly, names = '', module = ''] = m;
    if (typeOnly) continue;
    for (const raw of names.split(',')) {
      const spec = raw.trim();
      if (!spec || spec.startsWith('type ')) continue;
      const [imported = '', local = imported] = spec.split(/\s+as\s+/);
      // The bundle may keep either name (`new import_x.Imported(` for CommonJS interop, `new Local(`).
      if (/Command$/.test(imported)) {
        out.set(local, `${module}#${imported}`);
        out.set(imported, `${module}#${imported}`);
      }
    }
  }
  return out;
}

/** A handler's bundle as the Lambda package builds it (esbuild, ESM for node22), in memory, with its metafile. */
function bundleOf(repo: string, entry: string) {
  return build({
    entryPoints: [join(repo, entry)],
    absWorkingDir: repo,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
}

/**
 * IAM actions (`service:Operation`) of every SDK command constructed in the `src/` code a handler's bundle
 * keeps.
 * @example await sdkActionsOf(repo, 'src/handlers/api.ts') // Set { 'kinesis:PutRecords', ... }
 */
export async function sdkActionsOf(repo: string, entry: string): Promise<Set<string>> {
  const result = await bundleOf(repo, entry);
  const text = result.outputFiles[0]?.text ?? '';
  // esbuild (not minified) opens each module's code with a `// <path>` line.
  const parts = text.split(/^\/\/ (\S+)$/m);
  const actions = new Set<string>();
  for (let i = 1; i < parts.length; i += 2) {
    const file = parts[i] ?? '';
    if (!file.startsWith('src/')) continue;
    const imports = importedCommands(readFileSync(join(repo, file), 'utf8'));
    for (const m of (parts[i + 1] ?? '').matchAll(/new (?:[\w$]+\.)?(\w+?Command)\d*\(/g)) {
      const local = m[1] ?? '';
      const origin = imports.get(local);
      if (!origin) throw new Error(`${file}: new ${local}(...) is not an @aws-sdk import this test knows`);
      const [module = '', imported = ''] = origin.split('#');
      const service = SDK_SERVICES[module];
      if (!service)
        throw new Error(`${file}: ${imported} comes from ${module}: add its IAM prefix to sdk-calls.ts`);
      const name = imported.replace(/Command$/, '');
      const operation =
        module === '@aws-sdk/lib-dynamodb'
          ? DOCUMENT_COMMANDS[name]
          : module === '@aws-sdk/client-s3'
            ? (S3_ACTIONS[name] ?? name)
            : module === '@aws-sdk/client-lambda'
              ? (LAMBDA_ACTIONS[name] ?? name)
              : name;
      if (!operation) throw new Error(`${file}: unknown document command ${imported}`);
      actions.add(`${service}:${operation}`);
    }
  }
  return actions;
}

/**
 * The `src/` modules a handler's esbuild bundle is built from (the metafile's inputs), sorted.
 * @example await bundledSourcesOf(repo, 'src/handlers/batch.ts') // ['src/batch/aws/clean-range.ts', ...]
 */
export async function bundledSourcesOf(repo: string, entry: string): Promise<string[]> {
  const result = await bundleOf(repo, entry);
  return Object.keys(result.metafile.inputs)
    .filter((file) => file.startsWith('src/'))
    .sort();
}
