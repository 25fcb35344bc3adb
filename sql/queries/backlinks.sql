-- The articles that link to one article (directly or through a redirect), with how many links.
-- param: title
WITH target AS (
  SELECT coalesce(
    (SELECT seq FROM nodes WHERE title = $title AND kind = 'article'),
    (SELECT article FROM redirect_chains WHERE title = $title)
  ) AS seq
)
SELECT a.title, e.n AS links, e.n_text AS links_in_text
FROM edges e JOIN target t ON e.dst = t.seq JOIN articles a ON a.seq = e.src
ORDER BY e.n DESC, a.title;
