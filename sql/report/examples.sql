-- A few instances per relation with their text and titles; for a linked pair, where in A's
-- article the link to B's article stands (its anchor and offset, when it is in the clean text).
WITH picked AS (
  SELECT *, row_number() OVER (PARTITION BY label ORDER BY hash(id, 'report')) AS pick FROM pairs
),
chosen AS (SELECT * FROM picked WHERE pick <= $per_label)
SELECT c.label, c.id,
       aa.title AS a_title, substr(aa.text, sa.char_start + 1, sa.char_end - sa.char_start) AS a_text,
       ab.title AS b_title, substr(ab.text, sb.char_start + 1, sb.char_end - sb.char_start) AS b_text,
       (SELECT l.anchor FROM link_resolution r JOIN links l ON l.src = r.src AND l.idx = r.idx
        WHERE r.src = c.a_article AND r.dst = c.b_article AND r."offset" IS NOT NULL ORDER BY r."offset" LIMIT 1) AS anchor
FROM chosen c
JOIN articles aa ON aa.seq = c.a_article JOIN segments sa ON sa.article = c.a_article AND sa.idx = c.a_idx
JOIN articles ab ON ab.seq = c.b_article JOIN segments sb ON sb.article = c.b_article AND sb.idx = c.b_idx
ORDER BY c.label, c.pick;
