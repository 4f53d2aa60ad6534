import fc from 'fast-check';
import { StreamDecoder } from '../../src/core/decode.js';
import { EncodingError } from '../../src/core/errors.js';

function decodeAll(bytes: Uint8Array, chunk: number, encoding?: 'auto' | 'utf-8' | 'windows-1252'): string {
  const decoder = new StreamDecoder(encoding);
  let text = '';
  for (let i = 0; i < bytes.length; i += chunk) text += decoder.write(bytes.subarray(i, i + chunk));
  return text + decoder.end();
}

describe('StreamDecoder', () => {
  it('drops a UTF-8 BOM', () => {
    expect(decodeAll(Buffer.from('\ufeffInvoiceNo', 'utf8'), 2)).toBe('InvoiceNo');
  });

  it('reads UTF-8 split anywhere', () => {
    const text = 'a£b€c😀'.repeat(5);
    for (const chunk of [1, 2, 3, 5]) expect(decodeAll(Buffer.from(text, 'utf8'), chunk)).toBe(text);
  });

  it('switches to Windows-1252 when the first non-ASCII byte is not UTF-8', () => {
    const bytes = Buffer.from([...Buffer.from('price '), 0xa3, 0x31, 0x20, 0x80]);
    const decoder = new StreamDecoder();
    expect(decoder.write(bytes) + decoder.end()).toBe('price £1 €');
    expect(decoder.encoding).toBe('windows-1252');
  });

  it('fails with the byte offset when invalid UTF-8 follows valid UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('£ok\n', 'utf8'), Buffer.from([0xa3])]);
    expect(() => decodeAll(bytes, 1)).toThrow(EncodingError);
    expect(() => decodeAll(bytes, 1)).toThrow(/at byte 5.*--encoding windows-1252/);
  });

  it('reads UTF-8 with one stray byte later in the same chunk as an error at that byte, not Windows-1252', () => {
    // CAFÉ in UTF-8, then one byte no UTF-8 text has: the first non-ASCII character decided UTF-8.
    const bytes = Buffer.concat([Buffer.from('x,CAFÉ\ny,', 'utf8'), Buffer.from([0xff]), Buffer.from('\n')]);
    expect(() => decodeAll(bytes, bytes.length)).toThrow(/at byte 10 /);
  });

  it('still reads a body whose first non-ASCII byte is not UTF-8 as Windows-1252, whole', () => {
    const bytes = Buffer.from([0x43, 0x41, 0x46, 0xc9, 0x0a, 0xe9, 0xa3]);
    expect(decodeAll(bytes, bytes.length)).toBe('CAFÉ\né£');
  });

  it('honours an explicit encoding', () => {
    expect(decodeAll(Buffer.from([0xc3, 0xa9]), 1, 'windows-1252')).toBe('Ã©');
  });

  it('on arbitrary bytes, returns text or fails with EncodingError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 7 }), (bytes, chunk) => {
        let outcome: unknown = null;
        try {
          outcome = decodeAll(bytes, chunk);
        } catch (err) {
          outcome = err;
        }
        expect(typeof outcome === 'string' || outcome instanceof EncodingError).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('reads pure ASCII and an empty input', () => {
    expect(decodeAll(Buffer.from('ab'), 1)).toBe('ab');
    expect(decodeAll(Buffer.alloc(0), 1)).toBe('');
    expect(() => decodeAll(Buffer.from([0xef, 0xbb]), 1)).toThrow(/ends inside a UTF-8 character/);
  });
});
