/**
 * A PMC Open Access full text (JATS `.nxml`): one document, its text the title, the abstract and the
 * body's paragraphs (no tables, figures, formulas or references; citation markers left out), its id
 * the PMID (else `PMC` + its PMC id), its links the PMIDs of its reference list.
 */
import { SaxesParser } from 'saxes';
import { DumpSyntaxError } from '../dump/xml.js';
import type { PageRows } from '../db/rows.js';
import { documentRows } from './jsonl.js';

/** Whether the start of a file is a JATS article. */
export function isJats(head: string): boolean {
  return /<!DOCTYPE article[^>]*JATS|<!DOCTYPE article[^>]*NLM\/\/DTD|<article\s[^>]*xmlns:xlink/.test(head);
}

// what a paragraph's text leaves out: floats, formulas, and the markers that cite references
const SKIP = new Set(['table-wrap', 'fig', 'disp-formula', 'inline-formula', 'table', 'fn-group', 'supplementary-material', 'graphic', 'media']);

export class JatsReader {
  private readonly parser = new SaxesParser({ position: true });
  private readonly stack: string[] = [];
  private readonly skips: boolean[] = []; // whether each open element is one whose text is left out
  private ids: Record<string, string> = {};
  private idType: string | null = null;
  private title = '';
  private readonly paragraphs: string[] = [];
  private readonly cites: string[] = [];
  private text: string[] | null = null;
  private target: 'id' | 'title' | 'p' | 'ref' | null = null;
  private skipDepth = 0;
  private error: Error | null = null;

  constructor(private readonly file: string) {
    this.parser.on('opentag', (t) => {
      const parent = this.stack[this.stack.length - 1];
      this.stack.push(t.name);
      const skip = SKIP.has(t.name) || (t.name === 'xref' && t.attributes['ref-type'] === 'bibr');
      this.skips.push(skip);
      if (skip) this.skipDepth++;
      if (this.target) return;
      if (t.name === 'article-id' && parent === 'article-meta') this.collect('id', String(t.attributes['pub-id-type'] ?? ''));
      else if (t.name === 'article-title' && parent === 'title-group' && this.stack.includes('article-meta')) this.collect('title');
      else if (t.name === 'p' && (this.stack.includes('abstract') || this.stack.includes('body')) && !this.stack.includes('ref-list') && this.skipDepth === 0) this.collect('p');
      else if (t.name === 'pub-id' && t.attributes['pub-id-type'] === 'pmid' && this.stack.includes('ref-list')) this.collect('ref');
    });
    this.parser.on('text', (s) => {
      if (this.text && (this.skipDepth === 0 || this.target !== 'p')) this.text.push(s);
    });
    this.parser.on('closetag', (t) => {
      this.stack.pop();
      if (this.skips.pop()) this.skipDepth--;
      const done = (this.target === 'id' && t.name === 'article-id') || (this.target === 'title' && t.name === 'article-title') || (this.target === 'p' && t.name === 'p') || (this.target === 'ref' && t.name === 'pub-id');
      if (!done) return;
      const value = this.text!.join('').replace(/\s+/g, ' ').trim();
      if (this.target === 'id' && this.idType) this.ids[this.idType] ??= value;
      else if (this.target === 'title') this.title = value;
      else if (this.target === 'p' && value) {
        // what the citation markers left: `[-]`, `[,]`, `( ; )`
        const clean = value.replace(/\s*\[[\s,;–—-]*\]/g, '').replace(/\s*\([\s,;–—-]*\)/g, '').replace(/\s+([.,;:])/g, '$1').trim();
        if (clean) this.paragraphs.push(clean);
      }
      else if (this.target === 'ref' && /^\d+$/.test(value)) this.cites.push(value);
      this.text = null;
      this.target = null;
    });
    this.parser.on('error', (e) => {
      this.error ??= new DumpSyntaxError(`${this.file}: malformed XML at line ${this.parser.line}, column ${this.parser.column}: ${e.message.replace(/^(?:.*?:)?\d+:\d+: /, '')}`);
    });
  }

  private collect(target: 'id' | 'title' | 'p' | 'ref', idType: string | null = null): void {
    this.target = target;
    this.idType = idType;
    this.text = [];
  }

  write(chunk: string): void {
    if (this.error) throw this.error;
    this.parser.write(chunk);
    if (this.error) throw this.error;
  }

  /** The article's rows (seq `seq`). */
  end(seq: number): PageRows {
    this.parser.close();
    if (this.error) throw this.error;
    const id = this.ids.pmid ?? (this.ids.pmc ? `PMC${this.ids.pmc.replace(/^PMC/i, '')}` : null);
    if (!id) throw new DumpSyntaxError(`${this.file}: a JATS article without a PMID or PMC id`);
    const title = this.title || id;
    const raw = [this.title, ...this.paragraphs].filter((x) => x).join('\n\n');
    const bytes = Buffer.byteLength(raw);
    const pageId = /^\d+$/.test(id) ? Number(id) : null;
    if (!this.paragraphs.length) return { seq, wikitextBytes: bytes, skipped: { seq, page_id: pageId, ns: 0, title, reason: 'no abstract or body text', line: null } };
    const targets = [...new Set(this.cites)].filter((c) => c !== id);
    return documentRows({ seq, id, pageId, title, raw, bytes, targets, origin: 'citation' });
  }
}
