-- Articles that link to the most other articles.
-- param: limit = 20
SELECT title, out_degree, in_degree
FROM degrees
ORDER BY out_degree DESC, title
LIMIT $limit::INTEGER;
