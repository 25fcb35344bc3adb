-- The redirects that end at one article (named by its title or by one of its redirects), with how many hops each takes.
-- param: title
WITH target AS (
  SELECT coalesce(
    (SELECT seq FROM nodes WHERE title = $title AND kind = 'article'),
    (SELECT article FROM redirect_chains WHERE title = $title)
  ) AS seq
)
SELECT c.title AS redirect, c.hops
FROM redirect_chains c JOIN target t ON c.article = t.seq
ORDER BY c.hops, c.title;
