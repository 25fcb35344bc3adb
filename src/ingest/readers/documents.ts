/**
 * Readers of the corpora that are no wiki: JSON Lines (a document a line, written as it comes),
 * PubMed/MEDLINE XML (read twice: versions and deletes are resolved within a file, no record held), a PMC full
 * text (one document), and books (a document per .txt file, read from the files directly).
 */
import { listValue } from '@duckdb/node-api';
import { basename } from 'node:path';
import { bookDocument, bookEntries } from '../../corpus/books.js';
import { jsonlRows, plainDocumentRows } from '../../corpus/jsonl.js';
import { JatsReader } from '../../corpus/pmc.js';
import { citationRows, PubmedReader, PubmedVersions, type Citation } from '../../corpus/pubmed.js';
import { recordSiteInfo } from '../../db/runs.js';
import { defaultSiteInfo, type SiteInfo } from '../../dump/siteinfo.js';
import { DecompressError } from '../../dump/bz2.js';
import { openDump, type DamagedBlock, type DamagedStream } from '../../dump/source.js';
import { DumpSyntaxError } from '../../dump/xml.js';
import type { PageRows } from '../../db/rows.js';
import type { InputKind } from '../inputs.js';
import { DEFAULT_MAX_RECORD, sizeText } from '../options.js';
import { Sink, type InputReader, type ReaderContext } from './reader.js';

/** What the readers of non-wiki corpora share: the default siteinfo, the sink, a count. */
abstract class DocumentReader implements InputReader {
  abstract readonly kind: InputKind;
  readonly site: SiteInfo = defaultSiteInfo();
  protected readonly sink: Sink;
  pagesRead = 0;
  endSeq: number;

  constructor(protected readonly ctx: ReaderContext) {
    this.sink = new Sink(ctx);
    this.endSeq = ctx.base;
  }

  get wikitextBytes(): number {
    return this.sink.wikitextBytes;
  }

  /** Not a wiki: its defaults do not replace a wiki's siteinfo read from an earlier input. */
  async begin(): Promise<this> {
    await recordSiteInfo(this.ctx.db, this.site, { ifUnset: true });
    return this;
  }

  async push(b: Buffer | DamagedStream | DamagedBlock): Promise<void> {
    if (!Buffer.isBuffer(b)) throw new DecompressError(`${this.ctx.file}: damaged compressed data (${'error' in b ? b.error : 'a damaged block'}); --on-damage skip passes over damage in wiki dumps only`);
    await this.take(b);
  }

  protected abstract take(b: Buffer): Promise<void>;
  abstract end(damage: Error | null): Promise<void>;

  async finish(): Promise<void> {
    await this.ctx.writer.commit();
  }
}

/**
 * A JSON Lines corpus (its first byte is `{`): one document per line, written in order. Lines are cut
 * from the bytes and decoded one by one: bad UTF-8 is named by its own line, and a line over
 * --max-record is passed over (its first bytes kept to name it), never held whole.
 */
export class JsonlInput extends DocumentReader {
  readonly kind = 'jsonl';
  private line = 0;
  /** the bytes of the line being read, and their count; null while a line over the cap is passed over */
  private parts: Buffer[] | null = [];
  private bytes = 0;
  private head = '';
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly cap = this.ctx.opts.maxRecord ?? DEFAULT_MAX_RECORD;

  protected async take(b: Buffer): Promise<void> {
    for (let at = 0; at < b.length; ) {
      const nl = b.indexOf(0x0a, at);
      const piece = b.subarray(at, nl < 0 ? b.length : nl);
      at = nl < 0 ? b.length : nl + 1;
      this.bytes += piece.length;
      if (this.parts && this.bytes > this.cap) {
        // over the cap: keep what names it, drop the rest as it comes
        this.head = Buffer.concat([...this.parts, piece]).subarray(0, 4096).toString('utf8');
        this.parts = null;
      }
      this.parts?.push(piece);
      if (nl >= 0) await this.lineEnds();
    }
  }

  private async lineEnds(): Promise<void> {
    this.line++;
    const seq = this.endSeq;
    let rows: PageRows | null;
    if (!this.parts) {
      const id = /"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)/.exec(this.head)?.[1];
      const title = id === undefined ? null : String(JSON.parse(id));
      rows = { seq, wikitextBytes: 0, skipped: { seq, page_id: title && /^\d{1,15}$/.test(title) ? Number(title) : null, ns: 0, title, reason: `too large: the line is over --max-record (${sizeText(this.cap)})`, line: this.line } };
    } else {
      const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
      let text: string;
      try {
        text = this.decoder.decode(bytes);
      } catch {
        if (this.ctx.opts.onDamage !== 'skip') throw new DumpSyntaxError(`${this.ctx.file}: line ${this.line} is not UTF-8 text (--on-damage skip passes over such a line); the lines before it are kept`);
        text = '';
      }
      rows = text || !bytes.length ? jsonlRows(this.ctx.file, text.endsWith('\r') ? text.slice(0, -1) : text, this.line, seq) : { seq, wikitextBytes: 0, skipped: { seq, page_id: null, ns: 0, title: null, reason: 'not UTF-8 text', line: this.line } };
    }
    this.parts = [];
    this.bytes = 0;
    this.head = '';
    if (!rows) return;
    this.endSeq++;
    this.pagesRead++;
    await this.sink.add(rows);
  }

  async end(damage: Error | null): Promise<void> {
    if (damage) throw damage;
    if (this.bytes || !this.parts) await this.lineEnds(); // a last line without its newline
  }
}

/** An XML corpus read by a SAX reader of its own, the text handed to it as it is decoded. */
abstract class XmlDocumentReader extends DocumentReader {
  protected abstract readonly reader: { write(text: string): void };
  private readonly decoder = new TextDecoder();

  protected async take(b: Buffer): Promise<void> {
    this.reader.write(this.decoder.decode(b, { stream: true }));
  }

  /** The rest of the text, at the end of the input. */
  protected flush(): void {
    this.reader.write(this.decoder.decode());
  }
}

/** A PMC full text (JATS): one document. */
export class PmcInput extends XmlDocumentReader {
  readonly kind = 'pmc';
  protected readonly reader = new JatsReader(this.ctx.file);

  async end(damage: Error | null): Promise<void> {
    if (damage) throw damage;
    this.flush();
    await this.sink.add(this.reader.end(this.ctx.base));
    this.pagesRead = 1;
    this.endSeq = this.ctx.base + 1;
  }
}

/**
 * A PubMed/MEDLINE XML file, in two passes so that no record is held: the first (as the bytes come)
 * finds which record of each PMID wins (its highest Version) and what DeleteCitation removes; the
 * second reads the file again and writes the winning records as they end, in file order.
 */
export class PubmedInput extends XmlDocumentReader {
  readonly kind = 'pubmed';
  private readonly versions = new PubmedVersions();
  protected readonly reader = new PubmedReader(this.ctx.file, (r) => this.versions.add(r));

  async end(damage: Error | null): Promise<void> {
    if (damage) throw damage; // a file is read whole before any record is written
    this.flush();
    this.reader.close();
    const deletes = this.reader.deleted;
    // what this file says of each PMID, which replaces what earlier files said: a record, or its deletion
    const says = [...new Set([...this.versions.pmids(), ...deletes])];
    if (this.ctx.opts.unit) await this.recordReplaces(says);
    else if (this.ctx.base > 0) await this.replaceEarlier(says);
    let deleted = 0;
    let k = 0;
    const ready: Citation[] = [];
    const second = new PubmedReader(this.ctx.file, (r) => {
      if (!this.versions.wins(r, k++)) return;
      if (deletes.has(r.pmid)) deleted++;
      else ready.push(r);
    });
    const write = async () => {
      for (const r of ready.splice(0)) {
        await this.sink.add(citationRows(r, this.endSeq++));
        this.pagesRead++;
      }
    };
    const decoder = new TextDecoder();
    const source = await openDump(this.ctx.file);
    for await (const b of source.bytes) {
      if (!Buffer.isBuffer(b)) throw new DecompressError(`${this.ctx.file}: damaged compressed data on its second reading`);
      second.write(decoder.decode(b, { stream: true }));
      await write();
    }
    second.write(decoder.decode());
    second.close();
    await write();
    if (k !== this.versions.records) throw new DumpSyntaxError(`${this.ctx.file}: changed while it was read (${this.versions.records} records, then ${k})`);
    if (deleted) this.ctx.opts.log?.(`${this.ctx.file}: ${deleted} record(s) removed by its DeleteCitation`);
    if (this.versions.superseded) this.ctx.opts.log?.(`${this.ctx.file}: ${this.versions.superseded} older version(s) of records left out (the highest Version of a PMID wins)`);
  }

  /** A unit of a plan: the PMIDs this file says something of, for the plan's catalog to replace in the inputs before it. */
  private async recordReplaces(pmids: string[]): Promise<void> {
    const { conn } = this.ctx.db;
    await conn.run('CREATE TABLE IF NOT EXISTS replaces (id VARCHAR NOT NULL)');
    if (pmids.length) await conn.run('INSERT INTO replaces SELECT unnest($ids)', { ids: listValue(pmids) });
  }

  /**
   * A later PubMed file (an update file) replaces what earlier inputs hold of its PMIDs: a record
   * again (a newer version) or deleted (DeleteCitation).
   */
  private async replaceEarlier(pmids: string[]): Promise<void> {
    if (!pmids.length) return;
    const { conn } = this.ctx.db;
    const list = listValue(pmids);
    const earlier = `SELECT seq FROM pages WHERE seq < ${this.ctx.base} AND norm_title IN (SELECT unnest($ids))`;
    await conn.run('BEGIN TRANSACTION');
    try {
      await conn.run(`DELETE FROM links WHERE src IN (${earlier})`, { ids: list });
      await conn.run(`DELETE FROM articles WHERE seq IN (${earlier})`, { ids: list });
      await conn.run(`DELETE FROM skipped WHERE seq < ${this.ctx.base} AND page_id IN (SELECT unnest($ids)::BIGINT)`, { ids: list });
      await conn.run(`DELETE FROM pages WHERE seq IN (${earlier})`, { ids: list });
      await conn.run('COMMIT');
    } catch (e) {
      await conn.run('ROLLBACK').catch(() => {});
      throw e;
    }
  }
}

/** Books: a document per .txt file, read from the files themselves (no bytes are pushed). */
export class BooksInput extends DocumentReader {
  readonly kind = 'books';
  readonly entries = bookEntries(this.ctx.file);

  protected async take(): Promise<void> {
    throw new Error('internal error: books are read from their files');
  }

  /** Reads the books (those before `toSeq`, a unit's end); `progress` after each. */
  async read(progress: () => void, toSeq?: number): Promise<void> {
    for (const { file, skip } of this.entries) {
      const seq = this.endSeq;
      if (toSeq !== undefined && seq >= toSeq) break;
      const title = basename(file).replace(/\.txt$/i, '');
      if (seq < this.ctx.resumeAt) {
        // in the database already (a resume, or a unit's books start further on): not read again
        this.endSeq++;
        this.pagesRead++;
        continue;
      }
      // a link out of the folder or to nothing: a page number of its own, skipped with the reason
      if (skip) await this.sink.add({ seq, wikitextBytes: 0, skipped: { seq, page_id: null, ns: 0, title, reason: skip, line: null } });
      else await this.sink.add(plainDocumentRows(await bookDocument(file), seq, this.pagesRead + 1));
      this.endSeq++;
      this.pagesRead++;
      progress();
    }
  }

  async end(): Promise<void> {}
}
