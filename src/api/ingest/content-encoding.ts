import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.js';

const gunzipAsync = promisify(gunzip);

/** The content codings POST /ingest decodes; `identity` is the body as sent. */
export const CONTENT_ENCODINGS = ['gzip', 'identity'] as const;

/**
 * The body of a request under its `Content-Encoding`: as sent without one (or with `identity`), gunzipped
 * for `gzip` (and its alias `x-gzip`), never to more than `limit` bytes, so a small body cannot inflate
 * past the API's body limit in memory. The decoded body is bytes: its charset is the Content-Type's.
 *
 * API Gateway (REST) passes a compressed body on to the function as it came unless content encoding is
 * enabled on the API, so the function decodes it itself.
 *
 * @throws UnsupportedMediaTypeError (415) for another coding, naming it
 * @throws PayloadTooLargeError (413) when the body decodes to more than `limit` bytes
 * @throws BadRequestError (400) when the body is not valid gzip
 * @example await decodeContent(gzipSync('a,b\n'), 'gzip', 5 * 1024 * 1024) // <Buffer 61 2c 62 0a>
 */
export async function decodeContent(
  body: Buffer | string,
  encoding: string | undefined,
  limit: number,
): Promise<Buffer | string> {
  const coding = (encoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return body;
  if (coding !== 'gzip' && coding !== 'x-gzip') {
    throw new UnsupportedMediaTypeError(
      `Content-Encoding ${JSON.stringify(encoding)} is not supported; send the body as is or with ${CONTENT_ENCODINGS.join(', ')}`,
      CONTENT_ENCODINGS,
    );
  }
  try {
    // A text body is one API Gateway decoded as UTF-8 (not a binary media type): compressed bytes do not
    // survive that, and the gunzip error below says so.
    return await gunzipAsync(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, {
      maxOutputLength: limit,
    });
  } catch (error) {
    // zlib stops at maxOutputLength with ERR_BUFFER_TOO_LARGE: the body decodes to more than the limit.
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new PayloadTooLargeError(null, limit, { cause: error });
    throw new BadRequestError(
      'invalid_body',
      `body is not valid gzip (Content-Encoding: ${encoding}): ${(error as Error).message}`,
      {},
      { cause: error },
    );
  }
}
