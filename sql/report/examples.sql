-- A few instances per relation: each relation's pairs with the smallest hashes (a top-n aggregate,
-- no sort of every pair), where each side's segment stands in its article's text, and, for a linked
-- pair, the anchor of the first link in A's clean text to B's article. The texts are read a span at
-- a time by example-text.sql: joined here, the articles' texts ran out of memory at 60k pages.
WITH smallest AS (
  SELECT label, unnest(min_by(id, hash(id, 'report'), $per_label)) AS id FROM pairs GROUP BY label
),
chosen AS (
  SELECT p.*, row_number() OVER (PARTITION BY p.label ORDER BY hash(p.id, 'report')) AS pick
  FROM pairs p SEMI JOIN smallest s ON s.id = p.id
),
sides AS (
  SELECT a_article AS article, a_idx AS idx FROM chosen UNION SELECT b_article, b_idx FROM chosen
),
spans AS (
  SELECT article, idx, char_start, char_end FROM segments SEMI JOIN sides USING (article, idx)
),
anchors AS (
  SELECT c.id, arg_min(l.anchor, r."offset") AS anchor
  FROM chosen c
  JOIN link_resolution r ON r.src = c.a_article AND r.dst = c.b_article AND r."offset" IS NOT NULL
  JOIN links l ON l.src = r.src AND l.idx = r.idx
  GROUP BY c.id
)
SELECT c.label, c.id,
       c.a_article, sa.char_start AS a_start, sa.char_end AS a_end,
       c.b_article, sb.char_start AS b_start, sb.char_end AS b_end,
       x.anchor
FROM chosen c
JOIN spans sa ON sa.article = c.a_article AND sa.idx = c.a_idx
JOIN spans sb ON sb.article = c.b_article AND sb.idx = c.b_idx
LEFT JOIN anchors x ON x.id = c.id
ORDER BY c.label, c.pick;
