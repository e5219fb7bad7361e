/**
 * Where the bytes come from, like tus-js-client's FileSource. Reads are by range so only the
 * segments being sent are in memory; `close()` releases whatever the source holds (a file handle).
 */
export interface UploadSource {
  readonly name: string;
  readonly size: number;
  /** MIME type sent at create; the server accepts video/* and a few containers. */
  readonly type: string;
  /** Bytes `start` (inclusive) to `end` (exclusive). */
  read(start: number, end: number, signal: AbortSignal): Promise<Uint8Array>;
  close(): Promise<void>;
}
