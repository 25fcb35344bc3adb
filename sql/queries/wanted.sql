-- Most-wanted dangling targets: titles linked to that no article (or redirect to one) answers.
-- param: limit = 20
SELECT target, count(*) AS links, count(DISTINCT src) AS articles
FROM link_resolution
WHERE resolution = 'dangling'
GROUP BY target
ORDER BY links DESC, target
LIMIT $limit::INTEGER;
