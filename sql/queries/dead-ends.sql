-- Dead ends: articles that link to no other article (no linked pair can start from them).
-- param: limit = 100
SELECT d.title, d.in_degree, length(a.text) AS text_chars
FROM degrees d JOIN articles a ON a.seq = d.article
WHERE d.out_degree = 0
ORDER BY d.title
LIMIT $limit::INTEGER;
