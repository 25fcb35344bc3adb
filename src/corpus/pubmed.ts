/**
 * PubMed / MEDLINE XML (`PubmedArticleSet`, and the pre-2017 `MedlineCitationSet`): one document
 * per PMID, its text the title and the abstract (each section of a structured abstract a paragraph;
 * inline markup kept as its text), its links the PMIDs its reference list cites, as BioLinkBERT's
 * corpus. The PMID is the document's `norm_title`, so `graph` resolves citations between documents
 * of the corpus (the rest are dangling). Within a file, the highest Version of a PMID wins and a
 * `DeleteCitation` removes its PMIDs; records without an abstract are skipped and counted.
 */
import { SaxesParser } from 'saxes';
import { DumpSyntaxError } from '../dump/xml.js';
import type { PageRows } from '../db/rows.js';
import { documentRows } from './jsonl.js';

export interface Citation {
  pmid: string;
  version: number;
  title: string;
  abstract: string[];
  cites: string[];
  line: number;
}

/** Whether the start of a decompressed file is a PubMed/MEDLINE XML file. */
export function isPubmed(head: string): boolean {
  return /<(PubmedArticleSet|MedlineCitationSet)[\s>]/.test(head);
}

/**
 * Reads a PubMed XML file pushed to it in chunks: each record is handed to `onRecord` as it ends
 * (none is kept), the PMIDs of its DeleteCitation are collected.
 */
export class PubmedReader {
  private readonly parser = new SaxesParser({ position: true });
  private readonly stack: string[] = [];
  readonly deleted = new Set<string>();
  private rec: Citation | null = null;
  private text: string[] | null = null; // text of the element being collected
  private idType: string | null = null;
  private error: Error | null = null;

  constructor(
    private readonly file: string,
    private readonly onRecord: (r: Citation) => void,
  ) {
    this.parser.on('opentag', (t) => {
      const parent = this.stack[this.stack.length - 1];
      this.stack.push(t.name);
      if (t.name === 'MedlineCitation' && (parent === 'PubmedArticle' || parent === 'MedlineCitationSet')) {
        this.rec = { pmid: '', version: 1, title: '', abstract: [], cites: [], line: this.parser.line };
      } else if (t.name === 'PMID' && parent === 'MedlineCitation' && this.rec && !this.rec.pmid) {
        this.rec.version = Number(t.attributes.Version ?? 1) || 1;
        this.text = [];
      } else if (t.name === 'PMID' && parent === 'DeleteCitation') this.text = [];
      else if (t.name === 'ArticleTitle' && this.rec) this.text = [];
      else if (t.name === 'AbstractText' && parent === 'Abstract' && this.rec) this.text = [];
      else if (t.name === 'ArticleId' && this.stack.includes('Reference') && this.rec) {
        this.idType = String(t.attributes.IdType ?? '');
        this.text = [];
      }
    });
    this.parser.on('text', (s) => this.text?.push(s));
    this.parser.on('closetag', (t) => {
      this.stack.pop();
      const parent = this.stack[this.stack.length - 1];
      const value = this.text?.join('') ?? '';
      const r = this.rec;
      if (t.name === 'PMID' && parent === 'MedlineCitation' && r && this.text) {
        r.pmid = value.trim();
        this.text = null;
      } else if (t.name === 'PMID' && parent === 'DeleteCitation' && this.text) {
        this.deleted.add(value.trim());
        this.text = null;
      } else if (t.name === 'ArticleTitle' && r && this.text) {
        r.title = value.replace(/\s+/g, ' ').trim();
        this.text = null;
      } else if (t.name === 'AbstractText' && r && this.text) {
        if (value.trim()) r.abstract.push(value);
        this.text = null;
      } else if (t.name === 'ArticleId' && r && this.text) {
        if (this.idType === 'pubmed' && /^\d+$/.test(value.trim())) r.cites.push(value.trim());
        this.text = null;
      } else if ((t.name === 'PubmedArticle' || (t.name === 'MedlineCitation' && parent === 'MedlineCitationSet')) && r) {
        if (r.pmid) this.onRecord(r);
        this.rec = null;
      }
    });
    this.parser.on('error', (e) => {
      this.error ??= new DumpSyntaxError(`${this.file}: malformed XML at line ${this.parser.line}, column ${this.parser.column}: ${e.message.replace(/^(?:.*?:)?\d+:\d+: /, '')}`);
    });
  }

  write(chunk: string): void {
    if (this.error) throw this.error;
    this.parser.write(chunk);
    if (this.error) throw this.error;
  }

  /** The end of the file: an error if its XML is not complete. */
  close(): void {
    this.parser.close();
    if (this.error) throw this.error;
  }
}

/**
 * Which record of a file is each PMID's: the first of its highest Version (records numbered in file
 * order). The first pass over a file fills it; the second writes only those records, as they come.
 */
export class PubmedVersions {
  private readonly best = new Map<string, { version: number; k: number }>();
  records = 0;

  add(r: Citation): void {
    const k = this.records++;
    const b = this.best.get(r.pmid);
    if (!b || r.version > b.version) this.best.set(r.pmid, { version: r.version, k });
  }

  /** Whether record `k` of the file (`r`) is the one its PMID keeps. */
  wins(r: Citation, k: number): boolean {
    return this.best.get(r.pmid)?.k === k;
  }

  /** older versions left out */
  get superseded(): number {
    return this.records - this.best.size;
  }

  /** the PMIDs the file holds a record of */
  pmids(): string[] {
    return [...this.best.keys()];
  }
}

export function citationRows(r: Citation, seq: number): PageRows {
  const pageId = Number(r.pmid);
  const title = r.title || r.pmid;
  if (!r.abstract.length) return { seq, wikitextBytes: 0, skipped: { seq, page_id: pageId, ns: 0, title, reason: 'no abstract', line: r.line } };
  const raw = [r.title, ...r.abstract].filter((x) => x.trim()).join('\n\n');
  const bytes = Buffer.byteLength(raw);
  const targets = [...new Set(r.cites)].filter((c) => c !== r.pmid);
  return documentRows({ seq, id: r.pmid, pageId, title, revId: r.version, raw, bytes, targets, origin: 'citation' });
}
