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
      try {
        const utf8 = makeDecoder('utf-8');
        const text = utf8.decode(bytes, { stream: true });
        this.mode = 'utf-8';
        this.decoder = utf8;
        return text;
      } catch {
        this.commit('windows-1252');
      }
    }
    try {
      return this.decoder!.decode(bytes, { stream: true });
    } catch (cause) {
      throw new EncodingError(
        `input is not valid UTF-8 near byte ${at} although earlier text was; pass --encoding windows-1252 (or latin1) to read it as a single-byte encoding`,
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

function makeDecoder(mode: 'utf-8' | 'windows-1252' | 'latin1'): TextDecoder {
  // ignoreBOM: the BOM is stripped once above; a U+FEFF later in the file is data.
  return new TextDecoder(mode, { fatal: mode === 'utf-8', ignoreBOM: true });
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
