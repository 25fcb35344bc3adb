-- Articles with the most in-links (distinct linking articles).
-- param: limit = 20
SELECT title, in_degree, out_degree
FROM degrees
ORDER BY in_degree DESC, title
LIMIT $limit::INTEGER;
