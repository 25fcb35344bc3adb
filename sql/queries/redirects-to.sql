-- The redirects that end at one article, with how many hops each takes.
-- param: title
SELECT c.title AS redirect, c.hops
FROM redirect_chains c
WHERE c.article = (SELECT seq FROM nodes WHERE title = $title AND kind = 'article')
ORDER BY c.hops, c.title;
