import { isAscii } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { EncodingError } from './errors.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const EMPTY = Buffer.alloc(0);

export const ENCODINGS = ['auto', 'utf-8', 'windows-1252', 'latin1'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/**
 * Decodes a byte stream chunk by chunk.
 *
 * With `auto`, UTF-8 is assumed (a BOM is dropped) until the first non-ASCII byte decides: valid UTF-8
 * commits to UTF-8, anything else switches to Windows-1252, the encoding of the widely mirrored export.
 * Everything before that byte was ASCII, which both encodings read alike, so no text already handed out
 * changes meaning. Invalid UTF-8 after UTF-8 was committed is an error that names the byte offset, since
 * silently guessing would corrupt text.
 */
export class StreamDecoder {
  private mode: 'undecided' | 'utf-8' | 'windows-1252' | 'latin1';
  private decoder: TextDecoder | null = null;
  private offset = 0;
  private atStart = true;
  private head: Buffer = EMPTY;

  constructor(encoding: Encoding = 'auto') {
    this.mode = encoding === 'auto' ? 'undecided' : encoding;
    if (this.mode !== 'undecided') this.decoder = makeDecoder(this.mode);
  }

  /** The encoding in use so far (`undecided` while the input has been pure ASCII). */
  get encoding(): string {
    return this.mode;
  }

  write(chunk: Uint8Array): string {
    let bytes = chunk;
    if (this.atStart) {
      // The BOM may arrive split across chunks: hold back up to 3 bytes until it is known.
      bytes = this.head.length > 0 ? Buffer.concat([this.head, chunk]) : chunk;
      if (bytes.length < 3 && BOM.subarray(0, bytes.length).equals(bytes) && bytes.length > 0) {
        this.head = Buffer.from(bytes);
        return '';
      }
      this.atStart = false;
      this.head = EMPTY;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
        bytes = bytes.subarray(3);
        this.offset += 3;
        if (this.mode === 'undecided') this.commit('utf-8');
      }
    }
    const at = this.offset;
    this.offset += bytes.length;
    if (this.mode === 'undecided') {
      if (isAscii(bytes)) return latin1(bytes);
      // The first non-ASCII character decides, not the whole chunk: text that starts as valid UTF-8 (CAFÉ)
      // and holds a stray byte later is UTF-8 with an error, never Windows-1252 (which would turn CAFÉ
      // into CAFÃ‰ silently).
      this.commit(startsAsUtf8(bytes) ? 'utf-8' : 'windows-1252');
    }
    try {
      return this.decoder!.decode(bytes, { stream: true });
    } catch (cause) {
      const bad = at + firstInvalidUtf8(bytes);
      throw new EncodingError(
        `input is not valid UTF-8 at byte ${bad} although earlier text was; pass --encoding windows-1252 (or latin1) to read it as a single-byte encoding`,
        { cause },
      );
    }
  }

  end(): string {
    if (this.head.length > 0) {
      // Input shorter than a BOM: decode what there is.
      const head = this.head;
      this.head = EMPTY;
      this.atStart = false;
      return this.write(head) + this.end();
    }
    if (!this.decoder) return '';
    try {
      return this.decoder.decode();
    } catch (cause) {
      throw new EncodingError(`input ends inside a UTF-8 character at byte ${this.offset}`, { cause });
    }
  }

  private commit(mode: 'utf-8' | 'windows-1252'): void {
    this.mode = mode;
    this.decoder = makeDecoder(mode);
  }
}

/**
 * The length of the valid UTF-8 sequence at `i` (1 for ASCII), the bytes left when the chunk ends inside a
 * sequence that is valid so far, or 0 when the bytes there are not UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF).
 */
function utf8SequenceAt(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) length = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    if (b0 === 0xe0) low = 0xa0;
    if (b0 === 0xed) high = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    if (b0 === 0xf0) low = 0x90;
    if (b0 === 0xf4) high = 0x8f;
  } else return 0;
  for (let k = 1; k < length; k++) {
    if (i + k >= bytes.length) return bytes.length - i;
    const b = bytes[i + k]!;
    if (b < (k === 1 ? low : 0x80) || b > (k === 1 ? high : 0xbf)) return 0;
  }
  return length;
}

/** Whether the first non-ASCII character of the bytes is valid UTF-8. */
function startsAsUtf8(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && bytes[i]! < 0x80) i++;
  return i === bytes.length || utf8SequenceAt(bytes, i) > 0;
}

/** The offset of the first byte that is not valid UTF-8 (the length when all are). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const length = utf8SequenceAt(bytes, i);
    if (length === 0) return i;
    i += length;
  }
  return bytes.length;
}

function makeDecoder(mode: 'utf-8' | 'windows-1252' | 'latin1'): TextDecoder {
  // ignoreBOM: the BOM is stripped once above; a U+FEFF later in the file is data.
  return new TextDecoder(mode, { fatal: mode === 'utf-8', ignoreBOM: true });
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
