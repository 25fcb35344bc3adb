-- Segment lengths of A and of B per relation, in bins of 8 tokens.
WITH sides AS (
  SELECT p.label, 'A' AS side, s.n_tokens FROM pairs p JOIN segments s ON s.article = p.a_article AND s.idx = p.a_idx
  UNION ALL
  SELECT p.label, 'B', s.n_tokens FROM pairs p JOIN segments s ON s.article = p.b_article AND s.idx = p.b_idx
)
SELECT CASE label WHEN 0 THEN 'contiguous' WHEN 1 THEN 'random' ELSE 'linked' END AS relation, side,
       (n_tokens // 8) * 8 AS tokens, count(*) AS segments
FROM sides GROUP BY ALL ORDER BY relation, side, tokens;
