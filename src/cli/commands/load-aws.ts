import { createS3Client } from '../../adapters/s3.js';
import { INCOMING_PREFIX, loadRemotely, type RemoteLoadResult } from '../../batch/aws/remote.js';
import { BatchError } from '../../batch/errors.js';
import { loadRemoteLoadConfig } from '../../config/batch.js';
import { ConfigError } from '../../config/env.js';
import type { Encoding } from '../../core/decode.js';
import { CliError, UsageError } from '../errors.js';
import { formatCount, ProgressBar } from '../progress.js';
import { printReport } from './clean.js';

/**
 * `ecomflow load <file> --target aws [--bucket <raw bucket>]`: uploads the file to the stack's raw bucket
 * under `incoming/` and follows the batch load it starts (src/batch/aws/remote.ts), with a progress bar,
 * then prints the same report as a local load. The bucket comes from `--bucket` or `ECOMFLOW_RAW_BUCKET`;
 * credentials and region from the usual AWS SDK settings.
 */
export async function loadAwsCommand(
  input: string,
  options: { bucket: string | undefined; encoding: Encoding },
): Promise<void> {
  let config: ReturnType<typeof loadRemoteLoadConfig>;
  try {
    config = loadRemoteLoadConfig(options.bucket);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  const s3 = createS3Client(config.aws);
  const upload = new ProgressBar('upload');
  const load = new ProgressBar('load  ');
  let uploading = true;
  const started = performance.now();
  try {
    const result = await loadRemotely(input, {
      s3,
      bucket: config.rawBucket,
      encoding: options.encoding,
      onProgress: (p) => {
        if (p.phase === 'uploading') return upload.update(p.bytesDone, p.bytesTotal);
        if (uploading) {
          uploading = false;
          upload.done();
          console.error(
            `uploaded to s3://${config.rawBucket}/${INCOMING_PREFIX}; the batch load runs in AWS`,
          );
        }
        if (p.phase !== 'waiting') load.update(p.bytesDone, p.bytesTotal, p.rows);
      },
    });
    load.done();
    printRemoteLoad(result, (performance.now() - started) / 1000);
  } catch (err) {
    if (err instanceof BatchError || err instanceof UsageError) throw err;
    throw new CliError(`cannot load through s3://${config.rawBucket}: ${describeAwsError(err)}`);
  } finally {
    s3.destroy();
  }
}

/** An SDK error as one line: credentials, a missing bucket and denied access are the usual ones. */
function describeAwsError(err: unknown): string {
  const e = err as { name?: string; message?: string } | null;
  if (e?.name === 'CredentialsProviderError')
    return 'no AWS credentials (set AWS_PROFILE or run `aws sso login`)';
  if (e?.name === 'NoSuchBucket') return 'no such bucket (it is the stack output RawBucketName)';
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
}

function printRemoteLoad(result: RemoteLoadResult, seconds: number): void {
  const { status } = result;
  if (result.alreadyLoaded) {
    console.log(`${result.key} was loaded before (source ${result.sourceId}): nothing to do`);
  }
  if (status.report) printReport(status.report);
  console.log(
    `  mode       ${status.mode ?? '?'}, ${status.ranges} range${status.ranges === 1 ? '' : 's'} cleaned in parallel`,
  );
  if (status.lake) {
    console.log(
      `  lake       ${status.lake.parts} parts, ${formatCount(status.lake.rows)} lines in s3://${status.lake.bucket}/`,
    );
  }
  if (status.warehouse) {
    const w = status.warehouse;
    console.log(`  warehouse  ${formatCount(w.copied)} copied, ${formatCount(w.inserted)} new (${w.target})`);
  }
  if (status.quarantine && status.quarantine.rows > 0) {
    console.log(
      `  quarantine ${formatCount(status.quarantine.rows)} rows in s3://${status.quarantine.bucket}/${status.quarantine.prefix}`,
    );
  }
  if (!result.alreadyLoaded && status.report && seconds > 0) {
    console.log(
      `  ${seconds.toFixed(1)} s, ${formatCount(status.report.rows_read / seconds)} rows/s end to end`,
    );
  }
}
