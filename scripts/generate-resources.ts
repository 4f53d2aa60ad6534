/**
 * Writes the parts of the CloudFormation resources that derive from the record contract, so that the Glue
 * table and the Redshift COPY column list are generated from `src/core/schema.ts`, never retyped.
 *
 * `serverless.yml` reads the output through `${file(./resources/generated/record-contract.json):...}`.
 * Run it after changing the contract: `npm run generate`. A test fails while the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { QUARANTINE_COLUMNS } from '../src/core/quarantine.js';
import { COLUMN_NAMES, glueColumns } from '../src/core/schema.js';

/** Where the generated file lives, relative to the repository root. */
export const GENERATED_PATH = 'resources/generated/record-contract.json';

/** The generated values, as `serverless.yml` consumes them. */
export interface RecordContractResources {
  /** Glue `StorageDescriptor.Columns` of the lake table, in contract order. */
  glueColumns: { Name: string; Type: string; Comment: string }[];
  /** Firehose `CopyCommand.DataTableColumns`: the COPY column list of `raw.invoice_lines`. */
  redshiftCopyColumns: string;
  /** Glue `StorageDescriptor.Columns` of the quarantine table, in the record's field order. */
  quarantineColumns: { Name: string; Type: string; Comment: string }[];
}

/** The generated values, computed from the contract now. */
export function recordContractResources(): RecordContractResources {
  return {
    glueColumns: glueColumns(),
    redshiftCopyColumns: COLUMN_NAMES.join(','),
    quarantineColumns: QUARANTINE_COLUMNS.map((c) => ({ Name: c.name, Type: c.glue, Comment: c.comment })),
  };
}

/**
 * The file's exact text: two-space JSON with a final newline, a layout Biome leaves as it is.
 * @example renderRecordContract().startsWith('{\n  "glueColumns": [') === true
 */
export function renderRecordContract(): string {
  return `${JSON.stringify(recordContractResources(), null, 2)}\n`;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const target = resolve(repoRoot, GENERATED_PATH);
  writeFileSync(target, renderRecordContract());
  console.log(`wrote ${GENERATED_PATH}`);
}
