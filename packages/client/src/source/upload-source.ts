/**
 * Where the bytes come from, like tus-js-client's FileSource. Reads are by range so only the
 * segments being sent are in memory; `close()` releases whatever the source holds (a file handle).
 */
export interface UploadSource {
  readonly name: string;
  readonly size: number;
  /** MIME type sent at create; the server accepts video/* and a few containers. */
  readonly type: string;
  /**
   * Bytes `start` (inclusive) to `end` (exclusive). A source that can fill `into` (large
   * enough) returns a view of it, so a lane reuses one buffer for all its segments and memory
   * stays flat whatever the file size; others may ignore it.
   */
  read(start: number, end: number, signal: AbortSignal, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}
