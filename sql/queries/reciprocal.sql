-- Reciprocal links: pairs of articles that link to each other.
-- param: limit = 100
SELECT a.title AS article_a, b.title AS article_b, e.n AS links_a_to_b, r.n AS links_b_to_a
FROM edges e
JOIN edges r ON r.src = e.dst AND r.dst = e.src
JOIN articles a ON a.seq = e.src
JOIN articles b ON b.seq = e.dst
WHERE e.src < e.dst
ORDER BY a.title, b.title
LIMIT $limit::INTEGER;
