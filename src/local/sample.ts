import { GENERATED_HEADER, generateCsv } from '../core/generate.js';

/**
 * Streams a generated sample through `POST /ingest`, in CSV batches, the way a shop's traffic arrives.
 * Resolves to the rows the API accepted.
 */
export async function postSample(
  apiUrl: string,
  apiKey: string,
  rows = 10_000,
  batchRows = 1_000,
): Promise<number> {
  const lines = generateCsv({ rows, seed: 20101201, dirty: 0.001 });
  lines.next(); // the header; each batch carries its own
  let accepted = 0;
  let batch: string[] = [];
  const send = async () => {
    const body = `${GENERATED_HEADER}\n${batch.join('\n')}\n`;
    batch = [];
    const response = await fetch(`${apiUrl}/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv; charset=utf-8', 'x-api-key': apiKey },
      body,
    });
    const result = (await response.json()) as { accepted?: number; message?: string };
    if (response.status !== 202)
      throw new Error(`the sample POST got ${response.status}: ${result.message ?? ''}`);
    accepted += result.accepted ?? 0;
  };
  for (const line of lines) {
    batch.push(line);
    if (batch.length >= batchRows) await send();
  }
  if (batch.length > 0) await send();
  return accepted;
}
