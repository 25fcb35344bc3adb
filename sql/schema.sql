-- linkbert-pipeline database. One DuckDB file holds one dump and everything derived from it.
-- Offsets and lengths into article text count Unicode code points (as substr() does).
-- `seq` is unique in each ingest table (ingest commits each page once); there are no PRIMARY KEY
-- indexes, which would have to stay in memory while a dump of tens of millions of pages goes in.

CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);

-- Every <page> of the dump that could be read, all namespaces.
CREATE TABLE IF NOT EXISTS pages (
  seq        INTEGER NOT NULL,  -- position of the <page> in the dump, 0-based
  page_id    BIGINT,
  ns         INTEGER NOT NULL,
  title      VARCHAR NOT NULL,     -- as in the dump
  norm_title VARCHAR NOT NULL,     -- normalised (src/wiki/title.ts), the key links resolve against
  rev_id     BIGINT,
  timestamp  TIMESTAMP,
  kind       VARCHAR NOT NULL,     -- 'article' (ns 0), 'redirect', 'other' (counted, not parsed)
  text_bytes INTEGER               -- size of the wikitext, UTF-8 bytes
);

-- Clean text of every article (ns 0, not a redirect).
CREATE TABLE IF NOT EXISTS articles (
  seq            INTEGER NOT NULL,  -- pages.seq
  title          VARCHAR NOT NULL,
  disambiguation BOOLEAN NOT NULL,
  text           VARCHAR NOT NULL,     -- paragraphs joined by '\n\n'
  sent_start     INTEGER[] NOT NULL,   -- offset of each sentence in text
  sent_len       INTEGER[] NOT NULL,   -- its length
  para_first     INTEGER[] NOT NULL    -- index (0-based) of each paragraph's first sentence
);

CREATE TABLE IF NOT EXISTS redirects (
  seq      INTEGER NOT NULL,  -- pages.seq
  ns       INTEGER NOT NULL,
  title    VARCHAR NOT NULL,     -- the redirect page, as in the dump
  target   VARCHAR NOT NULL,     -- normalised target title
  target_ns INTEGER NOT NULL,    -- its namespace
  fragment VARCHAR,
  source   VARCHAR NOT NULL      -- 'element' (<redirect title>) or 'text' (#REDIRECT [[…]] only)
);

-- Internal links of articles, in wikitext order. Interwiki, interlanguage, category and file links
-- are not internal links; links inside file captions are.
CREATE TABLE IF NOT EXISTS links (
  src      INTEGER NOT NULL,  -- articles.seq
  idx      INTEGER NOT NULL,  -- order of the link in the article's wikitext
  target   VARCHAR NOT NULL,  -- normalised title
  target_ns INTEGER NOT NULL, -- its namespace (0: an article, if it exists)
  fragment VARCHAR,
  anchor   VARCHAR NOT NULL,  -- the text a reader sees
  "offset" INTEGER,           -- where anchor stands in articles.text; NULL when it has no place there
  origin   VARCHAR NOT NULL   -- 'text' when placed, else where it stands: template, infobox, ref, caption, gallery, table, list, text; 'document' for a JSON Lines document's links
);

-- Pages that could not be used, with the reason.
CREATE TABLE IF NOT EXISTS skipped (
  seq     INTEGER NOT NULL,
  page_id BIGINT,
  ns      INTEGER,
  title   VARCHAR,
  reason  VARCHAR NOT NULL,
  line    INTEGER              -- line of the <page> tag in the decompressed XML
);

-- One row per stage: what it read, with which settings, how far it got, what it produced.
CREATE TABLE IF NOT EXISTS runs (
  stage       VARCHAR PRIMARY KEY,
  source      VARCHAR,          -- input file
  fingerprint VARCHAR,          -- identity of the input (size + content hash of its ends)
  settings    JSON,
  siteinfo    JSON,
  status      VARCHAR NOT NULL, -- 'running', 'failed', 'done', 'interrupted' (Ctrl-C)
  next_seq    INTEGER,          -- pages below this seq are committed
  error       VARCHAR,
  summary     JSON,
  started_at  TIMESTAMP,
  finished_at TIMESTAMP
);

-- The input each page came from (the dump as given to ingest) and what it was read as: wiki,
-- pubmed, pmc, jsonl or books (from the ingest run's summary; several --dump give several inputs).
CREATE OR REPLACE VIEW page_inputs AS
SELECT p.seq, i.file AS input, i.kind
FROM pages p
JOIN (
  SELECT unnest(from_json(json_extract(summary, '$.inputs'), '[{"file": "VARCHAR", "kind": "VARCHAR", "first_seq": "INTEGER", "end_seq": "INTEGER"}]'), recursive := true)
  FROM runs WHERE stage = 'ingest'
) i ON p.seq >= i.first_seq AND p.seq < i.end_seq;

-- Sentences, recovered from the offsets stored with each article.
CREATE OR REPLACE VIEW sentences AS
SELECT article, idx,
       (len(list_filter(para_first, p -> p <= idx)) - 1)::INTEGER AS paragraph,
       start, len,
       substr(text, start + 1, len) AS text
FROM (
  SELECT seq AS article, para_first, text,
         unnest(sent_start) AS start, unnest(sent_len) AS len,
         (generate_subscripts(sent_start, 1) - 1)::INTEGER AS idx
  FROM articles
);
