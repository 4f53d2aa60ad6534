import { KinesisPutError } from '../../adapters/errors.js';
import { KINESIS_LIMITS, putRecords } from '../../adapters/kinesis.js';
import { encodeChange, INVOICE_CHANGES, type InvoiceChange } from '../../stream/envelope.js';
import type { ApiDeps } from '../deps.js';
import { BadRequestError, PayloadTooLargeError, ServiceUnavailableError } from '../errors.js';
import { type HttpResponse, json, keyParameter } from '../http.js';
import { type IngestRequest, readRows, summary } from './ingest.js';

/** The 202 body of a change: what was put on the stream, and the version every store will apply. */
export interface ChangeReceipt {
  invoice_no: string;
  change: InvoiceChange;
  version: number;
  lines: number;
}

/**
 * PUT /invoices/{invoiceNo}: the invoice's complete new set of lines, in any body format POST /ingest
 * takes. The lines no longer in the set are removed from every store, the others stored.
 *
 * A change is all or nothing: a replace that stored the good rows and dropped a bad one would remove a
 * line the till still has. So one bad row, or a row of another invoice, refuses the whole request with a
 * 400 naming each line, and nothing is stored or quarantined: the caller has the request and the errors.
 * The set goes on the stream as one record (its invoice's partition key), so the transformer applies all
 * of it or none; a set over Kinesis's 1 MiB record limit is a 413.
 *
 * 202 once Kinesis has the record. Sending the same PUT again is safe: it is a newer version of the same
 * set. 503 when Kinesis did not take it after retries.
 */
export async function replaceInvoice(
  invoiceNo: string,
  request: IngestRequest,
  deps: ApiDeps,
): Promise<HttpResponse> {
  keyParameter('invoiceNo', invoiceNo);
  const parsed = await readRows(request);
  if (parsed.rejected.length > 0) {
    throw new BadRequestError(
      'invalid_rows',
      `${parsed.rejected.length} of ${parsed.valid.length + parsed.rejected.length} rows are not valid, so invoice ${JSON.stringify(invoiceNo)} was not changed (first: ${parsed.rejected[0]!.message})`,
      { ...summary(parsed, 0) },
    );
  }
  const foreign = parsed.valid.filter((v) => v.clean.invoice_no !== invoiceNo);
  if (foreign.length > 0) {
    const first = foreign[0]!;
    throw new BadRequestError(
      'invoice_mismatch',
      `line ${first.line}: InvoiceNo ${JSON.stringify(first.clean.invoice_no)} is not the invoice being replaced, ${JSON.stringify(invoiceNo)} (${foreign.length} such rows)`,
      { field: 'InvoiceNo', lines: foreign.slice(0, 100).map((v) => v.line) },
    );
  }
  const version = deps.version();
  const record = encodeChange(request.requestId, version, INVOICE_CHANGES.replace, invoiceNo, parsed.valid);
  const bytes = record.data.length + Buffer.byteLength(record.partitionKey);
  if (bytes > KINESIS_LIMITS.maxRecordBytes) {
    throw new PayloadTooLargeError(bytes, KINESIS_LIMITS.maxRecordBytes, {
      cause: new Error(
        `invoice ${invoiceNo}'s ${parsed.valid.length} lines make a ${bytes}-byte change record; a change travels as one Kinesis record`,
      ),
    });
  }
  await put(record, deps);
  return json(202, receipt(invoiceNo, INVOICE_CHANGES.replace, version, parsed.valid.length));
}

/**
 * DELETE /invoices/{invoiceNo}: removes the invoice from every store. 202 once the change is on the stream,
 * whether or not the invoice exists yet: its lines may still be in flight, and a delete also hides lines of
 * it that arrive later with an older version.
 */
export async function deleteInvoice(
  invoiceNo: string,
  requestId: string,
  deps: ApiDeps,
): Promise<HttpResponse> {
  keyParameter('invoiceNo', invoiceNo);
  const version = deps.version();
  await put(encodeChange(requestId, version, INVOICE_CHANGES.delete, invoiceNo, []), deps);
  return json(202, receipt(invoiceNo, INVOICE_CHANGES.delete, version, 0));
}

function receipt(invoiceNo: string, change: InvoiceChange, version: number, lines: number): ChangeReceipt {
  return { invoice_no: invoiceNo, change, version, lines };
}

async function put(record: ReturnType<typeof encodeChange>, deps: ApiDeps): Promise<void> {
  try {
    await putRecords(deps.kinesis, deps.config.streamName, [record], deps.retry);
  } catch (error) {
    if (!(error instanceof KinesisPutError)) throw error;
    throw new ServiceUnavailableError(
      'stream_unavailable',
      `the stream did not take the change to invoice ${record.partitionKey}; send the request again (it is safe: a change is a whole set)`,
      {},
      { cause: error },
    );
  }
}
