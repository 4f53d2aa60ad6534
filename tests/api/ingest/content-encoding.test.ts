/**
 * The Content-Encoding of POST /ingest: gzip is decoded within the body limit, any other coding is a 415
 * naming it, and a body that is not the gzip it claims is a 400.
 */
import { gzipSync } from 'node:zlib';
import { CONTENT_ENCODINGS, decodeContent } from '../../../src/api/ingest/content-encoding.js';

const LIMIT = 1024;
const csv = 'InvoiceNo,StockCode\n536365,85123A\n';

describe('decodeContent', () => {
  it.each([
    { encoding: undefined, body: csv },
    { encoding: '', body: csv },
    { encoding: 'identity', body: csv },
    { encoding: 'Identity ', body: Buffer.from(csv) },
  ])('passes the body on as sent with Content-Encoding $encoding', async ({ encoding, body }) => {
    expect(await decodeContent(body, encoding, LIMIT)).toBe(body);
  });

  it.each(['gzip', 'GZIP', 'x-gzip'])('gunzips a body sent with Content-Encoding %s', async (encoding) => {
    // Act
    const decoded = await decodeContent(gzipSync(csv), encoding, LIMIT);
    // Assess
    expect(Buffer.isBuffer(decoded) && decoded.toString('utf8')).toBe(csv);
  });

  it('keeps the bytes as they are, so a declared charset still applies after decoding', async () => {
    const latin1 = Buffer.from([0x43, 0x41, 0x46, 0xc9, 0x0a]); // "CAFÉ\n" in ISO-8859-1
    expect(await decodeContent(gzipSync(latin1), 'gzip', LIMIT)).toEqual(latin1);
  });

  it('decodes a body to exactly the limit, and refuses one a byte over it with 413', async () => {
    // Prepare: highly compressible, so the compressed body is far under the limit.
    const at = gzipSync(Buffer.alloc(LIMIT, 0x61));
    const over = gzipSync(Buffer.alloc(LIMIT + 1, 0x61));
    // Act, Assess
    expect(((await decodeContent(at, 'gzip', LIMIT)) as Buffer).byteLength).toBe(LIMIT);
    await expect(decodeContent(over, 'gzip', LIMIT)).rejects.toMatchObject({
      statusCode: 413,
      code: 'payload_too_large',
      message: `body decodes to more than ${LIMIT} bytes; the limit is ${LIMIT} bytes (5 MB)`,
    });
  });

  it.each(['br', 'deflate', 'compress', 'gzip, gzip'])(
    'answers 415 naming the coding for Content-Encoding %s',
    async (encoding) => {
      await expect(decodeContent(gzipSync(csv), encoding, LIMIT)).rejects.toMatchObject({
        statusCode: 415,
        code: 'unsupported_media_type',
        message: `Content-Encoding ${JSON.stringify(encoding)} is not supported; send the body as is or with ${CONTENT_ENCODINGS.join(', ')}`,
        details: { supported: CONTENT_ENCODINGS },
      });
    },
  );

  it('answers 400 for a body that is not the gzip it claims to be', async () => {
    await expect(decodeContent(Buffer.from(csv), 'gzip', LIMIT)).rejects.toMatchObject({
      statusCode: 400,
      code: 'invalid_body',
      message: expect.stringMatching(/^body is not valid gzip \(Content-Encoding: gzip\): /),
    });
  });
});
