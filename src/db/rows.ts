/**
 * Rows of the ingest tables (sql/schema.sql), as ingest's batch writer appends them: the contract
 * between every reader (wiki workers, corpus readers) and the writer. Below both, and free of
 * DuckDB, so that worker threads can build rows without loading it.
 */

/** Where a link stood in its page (links.origin); the order is the code that LinkColumns.origin holds. */
export const LINK_ORIGINS = ['text', 'template', 'infobox', 'ref', 'caption', 'gallery', 'table', 'list', 'document', 'citation'] as const;
export type LinkOrigin = (typeof LINK_ORIGINS)[number];

export type PageKind = 'article' | 'redirect' | 'other';

export interface PageRow { seq: number; page_id: number | null; ns: number; title: string; norm_title: string; rev_id: number | null; timestamp: string | null; kind: PageKind; text_bytes: number | null }
export interface ArticleRow { seq: number; title: string; disambiguation: boolean; text: string; sent_start: Int32Array; sent_len: Int32Array; para_first: Int32Array }
export interface RedirectRow { seq: number; ns: number; title: string; target: string; target_ns: number; fragment: string | null; source: 'element' | 'text' }
export interface LinkRow { src: number; idx: number; target: string; target_ns: number; fragment: string | null; anchor: string; offset: number | null; origin: LinkOrigin }
export interface SkippedRow { seq: number; page_id: number | null; ns: number | null; title: string | null; reason: string; line: number | null }

/**
 * One article's LinkRows by column (src is the article), numbers in typed arrays: far cheaper to
 * pass between threads than an object per link. offset -1 is NULL; origin indexes LINK_ORIGINS.
 */
export interface LinkColumns { idx: Int32Array; target: string[]; target_ns: Int32Array; fragment: (string | null)[]; anchor: string[]; offset: Int32Array; origin: Uint8Array }

/** Everything ingest writes for one page. */
export interface PageRows { seq: number; page?: PageRow; article?: ArticleRow; redirect?: RedirectRow; links?: LinkColumns; skipped?: SkippedRow; wikitextBytes: number }

