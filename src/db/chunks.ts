/**
 * Rows appended to a DuckDB table a DataChunk (2,048 rows) at a time. A list column goes in as
 * numbers written into the chunk's vectors, not as text DuckDB must parse: 3× faster for lists of
 * token ids (measured: 50k rows of 230 ids, 2.5 s as '[1,2,…]' text, 0.8 s as chunks).
 */
import { DuckDBDataChunk, listValue, type DuckDBAppender, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';

const CHUNK_ROWS = 2048;

export class ChunkAppender {
  private cols: DuckDBValue[][];

  constructor(
    private readonly appender: DuckDBAppender,
    private readonly types: DuckDBType[],
  ) {
    this.cols = types.map(() => []);
  }

  /** One row, a value per column (a list column takes `list(…)`). */
  row(values: DuckDBValue[]): void {
    for (let i = 0; i < values.length; i++) this.cols[i]!.push(values[i]!);
    if (this.cols[0]!.length === CHUNK_ROWS) this.flush();
  }

  /** Hands the rows so far to the Appender (which still holds them until its own flush). */
  flush(): void {
    const n = this.cols[0]!.length;
    if (!n) return;
    const chunk = DuckDBDataChunk.create(this.types, n);
    this.cols.forEach((c, i) => chunk.setColumnValues(i, c));
    this.appender.appendDataChunk(chunk);
    this.cols = this.types.map(() => []);
  }

  /** Everything into the table. */
  flushSync(): void {
    this.flush();
    this.appender.flushSync();
  }

  closeSync(): void {
    this.flush();
    this.appender.closeSync();
  }
}

/** A list column's value (a typed array is copied into an array first). */
export const list = (items: ArrayLike<number>): DuckDBValue => listValue(Array.isArray(items) ? items : Array.from(items));
