-- The hyperlink graph, derived from the ingest tables. Run by `linkbert graph`; every statement
-- replaces what it makes, so a rerun gives the same tables.

-- One node per normalised title: the first page that has it (a dump may repeat a title).
CREATE OR REPLACE TABLE nodes AS
SELECT norm_title AS title,
       min(seq) AS seq,
       arg_min(ns, seq) AS ns,
       arg_min(kind, seq) AS kind,        -- 'article', 'redirect', 'other'
       count(*)::INTEGER AS copies
FROM pages
GROUP BY norm_title;

-- Every redirect node followed to the end of its chain (A → B → C resolves to C), stopping at a
-- repeated title (a cycle) or after 32 hops.
CREATE OR REPLACE TABLE redirect_chains AS
WITH RECURSIVE
  hop AS (
    SELECT n.title, r.target, r.target_ns
    FROM nodes n JOIN redirects r ON r.seq = n.seq
    WHERE n.kind = 'redirect'
  ),
  walk AS (
    SELECT title AS start, target AS cur, target_ns AS cur_ns, 1 AS hops, [title] AS seen FROM hop
    UNION ALL
    SELECT w.start, h.target, h.target_ns, w.hops + 1, list_append(w.seen, w.cur)
    FROM walk w JOIN hop h ON h.title = w.cur
    WHERE w.hops < 32 AND NOT list_contains(w.seen, w.cur)
  ),
  last AS (
    SELECT start, arg_max(cur, hops) AS final, arg_max(cur_ns, hops) AS final_ns,
           max(hops)::INTEGER AS hops, arg_max(seen, hops) AS seen
    FROM walk GROUP BY start
  )
SELECT l.start AS title, l.final, l.hops,
       CASE
         WHEN n.kind = 'redirect' AND list_contains(l.seen, l.final) THEN 'cycle'
         WHEN n.kind = 'redirect' THEN 'too_long'
         WHEN n.kind = 'article' THEN 'article'
         WHEN n.kind = 'other' OR l.final_ns <> 0 THEN 'non_article'
         ELSE 'dangling'
       END AS status,
       CASE WHEN n.kind = 'article' THEN n.seq END AS article
FROM last l LEFT JOIN nodes n ON n.title = l.final;

-- Where each link of an article ends: the article it reaches (directly or through redirects), or why not.
CREATE OR REPLACE VIEW link_resolution AS
SELECT l.src, l.idx, l.target, l."offset",
       CASE
         WHEN n.kind = 'article' THEN n.seq
         WHEN n.kind = 'redirect' THEN c.article
       END AS dst,
       CASE
         WHEN n.kind = 'article' AND n.seq = l.src THEN 'self'
         WHEN n.kind = 'article' THEN 'direct'
         WHEN n.kind = 'redirect' AND c.status = 'article' AND c.article = l.src THEN 'self'
         WHEN n.kind = 'redirect' AND c.status = 'article' THEN 'via_redirect'
         WHEN n.kind = 'redirect' AND c.status = 'non_article' THEN 'non_article'
         WHEN n.kind = 'redirect' THEN 'dangling'          -- chain ends nowhere, in a cycle, or too long
         WHEN n.kind = 'other' OR l.target_ns <> 0 THEN 'non_article'
         ELSE 'dangling'                                  -- no such page in the dump
       END AS resolution
FROM links l
LEFT JOIN nodes n ON n.title = l.target
-- (redirect_chains holds redirect titles only; a condition on n here would make DuckDB loop over
-- links × redirects instead of hashing)
LEFT JOIN redirect_chains c ON c.title = l.target;

-- Article → article edges; n counts the links from src to dst, n_text those placed in the clean text.
-- Filled by sql/graph-edges.sql, a range of src at a time.
CREATE OR REPLACE TABLE edges (src INTEGER, dst INTEGER, n INTEGER, n_text INTEGER);
