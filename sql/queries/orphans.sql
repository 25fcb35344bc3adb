-- Orphans: articles no other article links to (LinkBERT never draws them as a linked segment).
-- param: limit = 100
SELECT d.title, d.out_degree, a.disambiguation
FROM degrees d JOIN articles a ON a.seq = d.article
WHERE d.in_degree = 0
ORDER BY d.title
LIMIT $limit::INTEGER;
