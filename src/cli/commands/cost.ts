import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CostError } from '../../cost/errors.js';
import { readMeasurements } from '../../cost/measurements.js';
import { ASSUMPTIONS, type CostEstimate, costLint, estimateCost } from '../../cost/model.js';
import { PRICES, PRICES_AS_OF } from '../../cost/prices.js';
import { readServiceConfig } from '../../cost/service-config.js';
import { CliError, UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';
import { formatTable } from '../table.js';

export const DEFAULT_LINES_PER_MONTH = 10_000_000;

export const costUsage = `ecomflow cost [--lines-per-month N] [--stage S] [--json]

The monthly AWS cost of the data path, per service, and per million invoice lines, before and after
packing: from serverless.yml, resources/ and config/params.yml for the stage (default dev), the record
sizes npm run bench measured (config/measurements.json), and the prices in src/cost/prices.ts
(${PRICES_AS_OF.region}, ${PRICES_AS_OF.date}). The Redshift workgroup or cluster itself is excluded.
Then warns about configurations that waste money. --lines-per-month defaults to ${DEFAULT_LINES_PER_MONTH.toLocaleString('en-US')}.`;

/** The folder holding serverless.yml: the repository, from src/ (tsx) or dist/ (the CLI). */
function serviceRoot(from: string = import.meta.dirname): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'serverless.yml'))) return dir;
    if (dirname(dir) === dir) throw new CliError(`no serverless.yml above ${from}`);
  }
}

function parseCostArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...HELP_OPTION,
      'lines-per-month': { type: 'string' },
      stage: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
}

export async function costCommand(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseCostArgs>;
  try {
    parsed = parseCostArgs(argv);
  } catch (error) {
    // node:util's own error for an unknown or malformed flag: a command line to fix.
    throw new UsageError(`${(error as Error).message}\n\n${costUsage}`, { cause: error });
  }
  const { values, positionals } = parsed;
  if (values.help) return printUsage(costUsage);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${costUsage}`);
  const linesText = values['lines-per-month'];
  const lines = linesText === undefined ? DEFAULT_LINES_PER_MONTH : Number(linesText.replace(/_/g, ''));
  if (!Number.isFinite(lines) || lines <= 0) {
    throw new UsageError(`--lines-per-month must be a positive number, not "${linesText}"\n\n${costUsage}`);
  }
  const stage = values.stage ?? 'dev';
  const root = serviceRoot();
  const measurementsFile = join(root, 'config', 'measurements.json');
  let estimates: CostEstimate[];
  let warnings: ReturnType<typeof costLint>;
  try {
    const config = readServiceConfig(root, stage);
    const measured = readMeasurements(measurementsFile);
    estimates = (['unpacked', 'packed'] as const).map((p) => estimateCost(config, measured, lines, p));
    warnings = costLint(config, measured);
  } catch (error) {
    if (error instanceof CostError) throw new CliError(error.message, { cause: error });
    throw error;
  }
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          stage,
          inputs: { root, measurementsFile, prices: PRICES_AS_OF, assumptions: ASSUMPTIONS },
          estimates,
          warnings,
        },
        null,
        2,
      ),
    );
    return;
  }
  const [unpacked, packed] = estimates as [CostEstimate, CostEstimate];
  const usd = (v: number) => `$${v.toFixed(2)}`;
  console.log(
    `ecomflow cost: stage ${stage}, ${lines.toLocaleString('en-US')} lines a month, prices ${PRICES_AS_OF.region} ${PRICES_AS_OF.date}`,
  );
  console.log(`inputs: ${root}/serverless.yml, resources/, config/params.yml; ${measurementsFile}\n`);
  console.log(
    formatTable(
      packed.services.map((s, i) => ({
        service: s.service,
        'unpacked / month': usd(unpacked.services[i]!.monthlyUsd),
        'packed / month': usd(s.monthlyUsd),
        'packed basis': s.basis,
      })),
    ),
  );
  console.log(
    `\ntotal a month: ${usd(unpacked.totalUsd)} unpacked, ${usd(packed.totalUsd)} packed` +
      `\nper million lines: ${usd(unpacked.perMillionLinesUsd)} unpacked, ${usd(packed.perMillionLinesUsd)} packed (Redshift workgroup or cluster excluded)`,
  );
  const fromMemory = Object.values(PRICES).filter((p) => p.checked === 'from memory').length;
  console.log(
    `prices: ${Object.keys(PRICES).length} in src/cost/prices.ts, ${fromMemory} of them list prices from memory; check them before quoting`,
  );
  for (const w of warnings) console.log(`warning [${w.code}]: ${w.message}`);
}
